// `npm run bench`: every section in sequence (never in parallel), then one table and a machine line.
//   --quick              fewer sizes and repetitions (a check that everything runs, not a measurement)
//   --only a,b           sections: gemm, attention, decode, train, encoder, inference, hf (hf only when named:
//                        GPT-2 small / BERT base shapes, minutes per backend)
//   --json[=FILE]        print JSON on stdout instead of the table (the table goes to stderr); FILE: also write it there
//   --backends ref,wasm,native,webgpu  qkv backends ('wasm' = 1 thread and all threads; native = the C++ addon on all cores;
//                        webgpu = the GPU through WebGPU, SwiftShader without one, in the sections that support it)
//   --no-tfjs --no-jaxjs --no-torch leave a peer out
//   --profile train      instead of the table: where each task's training step time goes, per kernel, per backend
//                        (baby GPT, seq2seq, word tagger, text classifier, ViT, speech tagger: bench/workloads.mjs)
//   --workloads a,b      with --profile train: only these (gpt, seq2seq, tagger, classify, vit, speech)
//   --mem-cap GIB        naive attention is skipped above this extrapolated peak (default 3, --quick 0.5)
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { CORES, PYTHON, TORCH_INSTALL, UNAVAILABLE, bestQkv, bestWasm, log, q, qkvBackends, torchInfo, webgpuAdapter } from './lib.mjs';

/** The train section's rows besides the baby GPT step, which always runs (--train-rows picks some: the busy machine, the taggers, the task steps, end to end). */
const TRAIN_ROWS = ['busy', 'taggers', 'tasks', 'e2e'];
const SECTIONS = ['gemm', 'attention', 'decode', 'train', 'encoder', 'inference', 'hf'];
const DEFAULT_SECTIONS = SECTIONS.filter((s) => s !== 'hf');
const PEER_SECTIONS = { tfjs: ['gemm', 'train', 'encoder'], jaxjs: ['gemm'], torch: ['gemm', 'train', 'encoder', 'hf'] };

function parseArgs(argv) {
  const o = { trainRows: TRAIN_ROWS, quick: false, only: DEFAULT_SECTIONS, json: false, jsonFile: null, backends: ['ref', 'wasm', 'native', 'webgpu'], tfjs: true, jaxjs: true, torch: true, memCapGiB: null, profile: null, workloads: null };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => inline ?? argv[++i];
    if (flag === '--quick') o.quick = true;
    else if (flag === '--only') o.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--json') { o.json = true; o.jsonFile = inline ?? null; }
    else if (flag === '--backends') o.backends = value().split(',').map((s) => s.trim());
    else if (flag === '--no-tfjs') o.tfjs = false;
    else if (flag === '--no-jaxjs') o.jaxjs = false;
    else if (flag === '--no-torch') o.torch = false;
    else if (flag === '--mem-cap') o.memCapGiB = Number(value());
    else if (flag === '--profile') o.profile = value();
    else if (flag === '--train-rows') o.trainRows = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--workloads') o.workloads = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--help' || flag === '-h') { process.stdout.write(readHelp()); process.exit(0); }
    else fail(`unknown flag ${argv[i]} (see --help)`);
  }
  const bad = o.only.filter((s) => !SECTIONS.includes(s));
  if (bad.length) fail(`--only: unknown section ${bad.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  const badRows = o.trainRows.filter((r) => !TRAIN_ROWS.includes(r));
  if (badRows.length) fail(`--train-rows: unknown row ${badRows.join(', ')}; rows: ${TRAIN_ROWS.join(', ')}`);
  if (o.backends.some((b) => !['ref', 'wasm', 'native', 'webgpu'].includes(b))) fail(`--backends: expected some of ref, wasm, native, webgpu, got ${o.backends.join(',')}`);
  if (o.profile !== null && o.profile !== 'train') fail(`--profile: only train can be profiled, got ${o.profile}`);
  const known = ['gpt', 'seq2seq', 'tagger', 'classify', 'vit', 'speech'];
  if (o.workloads && o.workloads.some((w) => !known.includes(w))) fail(`--workloads: expected some of ${known.join(', ')}, got ${o.workloads.join(',')}`);
  if (o.memCapGiB !== null && !(o.memCapGiB > 0)) fail('--mem-cap: expected a positive number of GiB');
  return o;
}

function readHelp() {
  return 'usage: npm run bench -- [--quick] [--only gemm,attention,decode,train,encoder,inference,hf] [--json[=FILE]]\n' +
    '                         [--backends ref,wasm,native,webgpu] [--no-tfjs] [--no-jaxjs] [--no-torch] [--mem-cap GIB] [--profile train [--workloads gpt,seq2seq,tagger,classify,vit,speech]]\n' +
    '                         [--train-rows busy,taggers,tasks,e2e] (the train section\'s rows beside the baby GPT step; default all)\n' +
    '(npm run --silent bench -- --json keeps npm\'s own lines out of stdout)\n';
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

function machine(ctx, torch) {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  let wasm;
  try {
    wasm = `qkv wasm ${q.wasmVariant()} build`;
    const addon = q.nativeAvailable() ? q.createNativeBackendSync({ threads: 1 }) : null;
    wasm += addon ? `, qkv native ${addon.variant} kernels` : `, no native addon (${q.defaultBackendNote()})`;
  } catch (e) {
    wasm = `qkv wasm unavailable (${e.message})`;
  }
  const tf = ctx.tfjsFlags;
  return {
    cpu, cores: CORES, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1), os: `${os.type()} ${os.release()}`, node: process.version, qkv: q.version, wasm,
    torch: torch.ok ? { version: torch.version, threads: torch.threads, blas: torch.blas, python: PYTHON } : { missing: torch.why, install: torch.probed ? TORCH_INSTALL : null },
    tfjs: tf ? { version: tf.version, backend: tf.backend, simd: tf.simd, threads: tf.threads } : null,
  };
}

function machineLine(m) {
  const torch = m.torch.version ? `PyTorch ${m.torch.version} (${m.torch.blas ?? 'BLAS unknown'}, ${m.torch.threads} threads, ${process.env.OMP_WAIT_POLICY !== undefined ? `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}` : 'each time the faster of OMP_WAIT_POLICY unset and PASSIVE'}, ${m.torch.python})` : `PyTorch: ${m.torch.missing}${m.torch.install ? ` (${m.torch.install})` : ''}`;
  const tfjs = m.tfjs ? `TF.js ${m.tfjs.version} ${m.tfjs.backend} (SIMD ${m.tfjs.simd ? 'on' : 'off'}, threads ${m.tfjs.threads > 1 ? m.tfjs.threads : 'off: tfjs-backend-wasm disables them in Node'})` : 'TF.js: not run';
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ${m.wasm}; ${torch}; ${tfjs}`;
}

/** A markdown table, padded so it also reads as plain text. */
function table(rows, columns) {
  const head = ['section', 'case', ...columns.map((c) => c.label), 'target', 'result'];
  const body = rows.map((r) => [r.section, r.case, ...columns.map((c) => r.cells[c.id]?.text ?? ''), r.target?.text ?? '',
    r.target ? [r.target.verdict, r.target.why].filter(Boolean).join(': ') : '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.profile) {
    const { profileTrain } = await import('./profile.mjs');
    process.stdout.write(`${await profileTrain({ quick: o.quick, backends: qkvBackends(o.backends), workloads: o.workloads })}\n`);
    return;
  }
  const only = SECTIONS.filter((s) => o.only.includes(s));
  const needTorch = only.some((s) => PEER_SECTIONS.torch.includes(s));
  const torch = o.torch && needTorch ? { ...torchInfo(), probed: true } : { ok: false, why: o.torch ? 'not run' : 'left out (--no-torch)' };
  const backends = qkvBackends(o.backends);
  const memCap = (o.memCapGiB ?? (o.quick ? 0.5 : 3)) * 2 ** 30;
  const ctx = {
    quick: o.quick, trainRows: o.trainRows, cores: CORES, backends, memCap, best: bestQkv, bestWasm, tfjsFlags: null,
    peers: { tfjs: o.tfjs, jaxjs: o.jaxjs, torch: torch.ok },
    noteTfjs(r) { if (r.tfjs) ctx.tfjsFlags = r.tfjs; },
    notes: [], // sections add lines printed under the table
  };
  const started = performance.now();
  const rows = [];
  const titles = {};
  for (const name of only) {
    const mod = await import(`./${name}.mjs`);
    titles[name] = mod.title;
    log(`== ${name}: ${mod.title}`);
    const t = performance.now();
    // a device backend (webgpu) only where the section waits for its queue (exports webgpu = true)
    const sectionCtx = mod.webgpu ? ctx : Object.assign(Object.create(ctx), { backends: backends.filter((b) => !b.device) });
    rows.push(...await mod.run(sectionCtx));
    log(`== ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const peerNote = { tfjs: o.tfjs ? '' : 'left out', jaxjs: o.jaxjs ? '' : 'left out', torch: torch.ok ? '' : (o.torch ? 'not installed*' : 'left out') };
  for (const r of rows) {
    for (const p of ['tfjs', 'jaxjs', 'torch']) if (!r.cells[p] && PEER_SECTIONS[p].includes(r.section)) r.cells[p] = { text: peerNote[p] };
  }
  const columns = [...backends.map((b) => ({ id: b.id, label: b.label })), { id: 'tfjs', label: 'TF.js wasm' }, { id: 'jaxjs', label: 'jax-js wasm' }, { id: 'torch', label: 'PyTorch CPU' },
    ...(only.includes('gemm') && o.jaxjs && backends.some((b) => b.device) ? [{ id: 'jaxjsWebgpu', label: 'jax-js WebGPU (Chromium)' }] : []),
    ...(only.includes('inference') || only.includes('hf') ? [{ id: 'ort', label: 'ONNX Runtime CPU' }] : []), ...(only.includes('inference') ? [{ id: 'ortWebgpu', label: 'ONNX Runtime WebGPU' }] : [])];
  const m = machine(ctx, torch);
  const notes = [
    ...only.map((s) => `${s}: ${titles[s]}`),
    'times are medians after warm-up',
    ...[...UNAVAILABLE].map(([label, b]) => `${label}: ${b.why}: ${b.detail}`),
    ...(webgpuAdapter ? [`qkv webgpu: on ${webgpuAdapter}${/swiftshader/i.test(webgpuAdapter) ? ' (SwiftShader: a CPU emulation of a GPU; its numbers say nothing of a real GPU)' : ''}`] : []),
    ...ctx.notes,
    ...(torch.ok || !torch.probed ? [] : [`* PyTorch: ${PYTHON} cannot import torch; install it with: ${TORCH_INSTALL}`]),
    ...(ctx.tfjsFlags ? ['TF.js peers: tfjs-core + tfjs-backend-wasm (.wasm from node_modules), same shapes written in tf ops; tfjs-core\'s gradients are loaded through bench/peers/tfjs-hooks.mjs'] : []),
    ...(o.quick ? ['--quick: few sizes and repetitions; numbers are indicative only'] : []),
  ];
  const text = `${table(rows, columns)}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n\n${machineLine(m)}\n` +
    `total ${((performance.now() - started) / 1000).toFixed(0)} s\n`;
  if (o.json) {
    const json = JSON.stringify({ date: new Date().toISOString(), options: { ...o, memCap }, machine: m, columns, sections: titles, rows, notes }, null, 2);
    if (o.jsonFile) writeFileSync(o.jsonFile, json + '\n');
    process.stderr.write(text);
    process.stdout.write(json + '\n');
  } else {
    process.stdout.write(text);
  }
}

await main();
