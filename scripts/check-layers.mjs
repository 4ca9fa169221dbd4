// Checks, run by npm test (each problem named on its own line, exit 1):
// - imports point down the layers of DESIGN.md (core <- kernels <- tensor <- ops <- nn ..., `order` below);
// - the backends: nothing from tensor/ up imports a backend (kernels/ref|wasm|native) directly
//   (they ask the registry; only the entry points src/api.ts, browser.ts, index.ts install one),
//   the contract and the registry import no backend, and a backend imports only the ones below
//   it in ref <- wasm <- native (wasm falls back to ref's kernels; native computes on wasm's memory);
// - cli/ and web/ import from src/ only its public entries (src/index.ts; web/: src/browser.ts)
//   and cli/ never imports web/ (the page's wire types live in src/inspect/wire.ts);
// - no import circle between files outside src/tensor/ (tensor/'s tape and storage know each
//   other by design), among src/, cli/ and web/;
// - no file outside the attention kind definitions (src/nn/attention/kinds/) compares an attention
//   kind with a built-in kind's name: a kind says how it decodes, what it honours and how it is
//   lowered, and everything else asks it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

// the repository, or (for the check's own test) the tree named by the first argument
const root = process.argv[2] ? resolve(process.argv[2]) : resolve(dirname(new URL(import.meta.url).pathname), '..');
// data/ (readers, vocabularies, tokenizers) sits below io/ so the exporters can describe a model's
// inputs; train/ (the Trainer, checkpoints) knows nothing of tasks; metrics/ (accuracy, BLEU, chrF)
// and decode/ (sampling, greedy, beam search) serve the tasks; inspect/ (what qkv viz shows, and
// the viewer's wire types) reads the tasks' models; run/ (a training session of a task) sits above
// them; experiments/ runs studies over tasks and sessions
const order = ['core', 'kernels', 'tensor', 'ops', 'nn', 'optim', 'data', 'io', 'train', 'metrics', 'decode', 'tasks', 'inspect', 'run', 'experiments'];
const layerOf = (file) => {
  const rel = relative(join(root, 'src'), file).split('/');
  return rel.length > 1 ? order.indexOf(rel[0]) : order.length; // src/index.ts sits on top
};
const walk = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
});
// every import and re-export, type-only ones too (a type import is still an arrow between layers),
// and bare side-effect imports (`import './x.js'`), which change what a module does without a name
const importsOf = (file) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'";]*?(?:from\s+)?['"]([^'"]+)['"]/gm)]
  .map((m) => m[1]);

const problems = [];
const BACKENDS = ['ref', 'wasm', 'native'];
const backendOf = (file) => /\/src\/kernels\/(ref|wasm|native)\//.exec(file)?.[1] ?? null;
for (const file of walk(join(root, 'src'))) {
  const from = layerOf(file);
  for (const spec of importsOf(file)) {
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    const to = layerOf(target);
    if (to > from) problems.push(`${relative(root, file)} imports ${spec} (a higher layer)`);
    const backend = backendOf(target);
    if (!backend) continue;
    if (from >= order.indexOf('tensor') && from < order.length) {
      problems.push(`${relative(root, file)} imports the backend ${spec} directly; ask the registry for kernels`);
    } else if (/\/src\/kernels\/(contract|registry)\.ts$/.test(file)) {
      problems.push(`${relative(root, file)} imports the backend ${spec}; the contract and the registry know no backend`);
    } else if (backendOf(file) && BACKENDS.indexOf(backend) > BACKENDS.indexOf(backendOf(file))) {
      problems.push(`${relative(root, file)} imports ${spec}: a ${backendOf(file)} kernel may import only the backends below it (${BACKENDS.join(' <- ')})`);
    }
  }
}
const ENTRY = { cli: /\/src\/index\.js$/, web: /\/src\/(index|browser)\.js$/ };
for (const dir of ['cli', 'web']) {
  let files = [];
  try { files = walk(join(root, dir)); } catch { continue; }
  for (const file of files) {
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (target.startsWith(join(root, 'src') + '/') && !ENTRY[dir].test(target)) {
        problems.push(`${relative(root, file)} imports ${spec}; ${dir}/ may use only the public API (${dir === 'cli' ? 'src/index.js' : 'src/browser.js or src/index.js'})`);
      }
      if (dir === 'cli' && target.startsWith(join(root, 'web') + '/')) {
        problems.push(`${relative(root, file)} imports ${spec}; cli/ does not import the page (its wire types are in src/inspect/wire.ts, exported by src/index.ts)`);
      }
    }
  }
}

// import circles: strongly connected components of the import graph of src/, cli/ and web/
const graph = new Map();
for (const dir of ['src', 'cli', 'web']) {
  let files = [];
  try { files = walk(join(root, dir)); } catch { continue; }
  for (const file of files) {
    graph.set(file, importsOf(file).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts')));
  }
}
{
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const connect = (v) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { connect(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do { w = stack.pop(); onStack.delete(w); component.push(w); } while (w !== v);
    const tensorDir = join(root, 'src', 'tensor') + '/';
    if (component.length > 1 && !component.every((f) => f.startsWith(tensorDir))) {
      problems.push(`import circle: ${component.map((f) => relative(root, f)).sort().join(' <-> ')}`);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
}

// attention kinds by name: a comparison of something named *attention* or *kind* with a built-in
// kind's name (either side, ===, !==, ==, !=), outside the kinds' own definitions
const KIND_NAMES = ['softmax', 'relu', 'additive', 'linear'];
const names = KIND_NAMES.join('|');
const operand = String.raw`[\w$][\w$.?!\]\[()]*?(?:attention|Attention|kind|Kind)[\w$]*`;
const comparisons = [
  new RegExp(String.raw`(${operand})\s*[!=]==?\s*(['"\`])(${names})\2`, 'g'),
  new RegExp(String.raw`(['"\`])(${names})\1\s*[!=]==?\s*(${operand})`, 'g'),
];
const kindsDir = join(root, 'src', 'nn', 'attention', 'kinds') + '/';
for (const file of graph.keys()) {
  if (file.startsWith(kindsDir)) continue;
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (/^\s*(\/\/|\*)/.test(line)) return; // comments may name a kind
    for (const re of comparisons) {
      for (const m of line.matchAll(re)) {
        problems.push(`${relative(root, file)}:${i + 1}: tests an attention kind's name (${m[0].trim()}); ask the kind (nn.attentionKind(name): decoding, honours, lecture, pytorch) instead`);
      }
    }
  });
}
// the browser entry must not reach Node's modules (node:fs, ...) nor npm packages (bare specifiers)
const seen = new Set();
const queue = [join(root, 'src', 'browser.ts')];
while (queue.length) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  const all = [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  for (const spec of all) {
    if (spec.startsWith('node:')) problems.push(`${relative(root, file)} imports ${spec}, which the browser entry (src/browser.ts) reaches`);
    else if (!spec.startsWith('.')) problems.push(`${relative(root, file)} imports the package ${spec}, which a page without a bundler cannot resolve, and the browser entry (src/browser.ts) reaches it`);
    else if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
  }
}
if (problems.length) {
  console.error('layer check failed:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('layer check: imports point down the layers; backends, public API, no import circles, no attention kind tested by name');
