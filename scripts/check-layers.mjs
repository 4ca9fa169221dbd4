// Checks that imports point down the layers of DESIGN.md (core <- kernels <- tensor <- ops <- nn ...)
// and that cli/ and web/ use only the public API. Exits non-zero naming each offending import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
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
for (const file of walk(join(root, 'src'))) {
  const from = layerOf(file);
  for (const spec of importsOf(file)) {
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    const to = layerOf(target);
    // a kernel backend must not import another backend; an op must not import a backend
    if (to > from) problems.push(`${relative(root, file)} imports ${spec} (a higher layer)`);
    if (from >= order.indexOf('tensor') && from < order.length && /kernels\/(ref|wasm|native)\//.test(target)) {
      problems.push(`${relative(root, file)} imports the backend ${spec} directly; ask the registry for kernels`);
    }
  }
}
for (const dir of ['cli', 'web']) {
  let files = [];
  try { files = walk(join(root, dir)); } catch { continue; }
  for (const file of files) {
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.') && resolve(dirname(file), spec).includes('/src/') && !/\/src\/(index|browser)\.js$/.test(resolve(dirname(file), spec))) {
        problems.push(`${relative(root, file)} imports ${spec}; ${dir}/ may use only the public API (src/index.js)`);
      }
    }
  }
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
console.log('layer check: imports point down the layers');
