// Shared helpers of `npm run bench`: timing, qkv backends, peers run as child processes, formatting.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as q from '../dist/src/index.js';

export { q };
export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const CORES = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
// The PyTorch peer's interpreter: QKV_BENCH_PYTHON (e.g. a virtualenv with the newest torch wheel from a local
// wheelhouse), else Debian's /usr/bin/python3 with python3-torch (the python3 first on PATH may be another one)
export const PYTHON = process.env.QKV_BENCH_PYTHON || '/usr/bin/python3';
export const TORCH_INSTALL = 'sudo apt-get install -y python3-torch libopenblas0-pthread';

import { median, timeIt, timeItAsync } from './timing.mjs';
import { fasterOf, torchPolicies, withPolicy } from './torch-policy.mjs';
export { median, timeIt, timeItAsync } from './timing.mjs';

/** The adapter the webgpu column ran on (for the notes), once it was made. */
export let webgpuAdapter = null;

/**
 * timeIt on a host backend; on a device (be.device, the webgpu column) each run also waits for
 * the device's queue (backend.sync()), so the time is the work's, not its queuing's.
 */
export async function timeOn(be, backend, fn, opts) {
  return be.device ? timeItAsync(async () => { await fn(); await backend.sync(); }, opts) : timeIt(fn, opts);
}

/**
 * The qkv backends a section measures, in column order. `make()` returns a backend to register,
 * or null when this build cannot have it (then `why` says so; no number is made up): the
 * all-threads column needs shared WebAssembly memory (backend.threads reports what it got).
 */
export function qkvBackends(wanted = ['ref', 'wasm', 'native']) {
  const all = [
    { id: 'ref', label: 'qkv ref', make: () => q.referenceBackend },
    { id: 'wasm1', label: 'qkv wasm 1 thread', make: () => warm(q.createWasmBackendSync({ name: 'wasm', threads: 1 })) },
    {
      id: 'wasmAll', label: `qkv wasm ${CORES} threads`, make: () => {
        const b = q.createWasmBackendSync({ name: 'wasm', threads: CORES });
        if (b.threads !== CORES) return null; // no shared memory here: it runs on one thread
        return b.whenReady().then(() => warm(b)); // measure with every worker started and warm
      }, why: 'no shared memory', detail: 'this engine cannot share WebAssembly memory with workers, so the wasm backend runs on one thread',
    },
    {
      id: 'native', label: `qkv native ${CORES} threads`, make: () => (q.nativeAvailable() ? warm(q.createNativeBackendSync({ name: 'native', threads: CORES })) : null),
      why: 'not built', detail: q.nativeAvailable() ? '' : q.defaultBackendNote() || 'the native addon is not available',
    },
    {
      // the GPU through WebGPU (SwiftShader, a CPU emulation, where the machine has no GPU): only the
      // sections that wait for its queue (export `webgpu = true`) get this column
      id: 'webgpu', label: 'qkv webgpu', device: true, make: async () => {
        const b = await q.createWebGpuBackendNode({ name: 'webgpu' });
        webgpuAdapter = b.adapter;
        return b;
      },
      why: 'no adapter', detail: 'the webgpu package or a GPU adapter is missing',
    },
  ];
  return all.filter((b) => wanted.some((w) => b.id.startsWith(w)));
}

/**
 * Runs ~0.3 s of products and attention on a fresh wasm backend: V8 first runs new WebAssembly
 * code unoptimised and swaps in optimised code after a few calls (on a background thread, which
 * busy workers slow down), so every section measures the steady state, as a long job sees it.
 */
function warm(backend) {
  const previous = q.getBackend().name;
  q.registerBackend(backend);
  q.setBackend(backend.name);
  try {
    const until = performance.now() + 300;
    const [a, b] = [q.randn([256, 256]), q.randn([1, 4, 128, 64])];
    while (performance.now() < until) {
      q.matmul(a, a).dispose();
      q.flashAttention(b, b, b, { causal: true }).dispose();
    }
    a.dispose();
    b.dispose();
  } finally {
    q.setBackend(previous);
  }
  return backend;
}

/** Backends that could not be made, by label: {why, detail} (main notes them under the table). */
export const UNAVAILABLE = new Map();

/**
 * Makes a backend active for fn, then goes back to the reference backend. Everything fn made must
 * be disposed by then. Returns fn's result, or {unavailable: why} when the backend does not exist.
 */
export async function withBackend(entry, fn) {
  let backend;
  try {
    backend = await entry.make(); // a backend with worker threads may well be made asynchronously
  } catch (e) {
    UNAVAILABLE.set(entry.label, { why: 'cannot create', detail: e.message });
    return { unavailable: 'cannot create' };
  }
  if (!backend) {
    UNAVAILABLE.set(entry.label, { why: entry.why, detail: entry.detail });
    return { unavailable: entry.why };
  }
  q.registerBackend(backend);
  q.setBackend(backend.name);
  try {
    return await fn(backend);
  } finally {
    q.setBackend('ref');
    backend.dispose?.(); // stop its worker threads before the next backend starts its own
  }
}

/** The best measured qkv column of a row for targets: native, else wasm on all threads, else 1 thread, else ref. */
export function bestQkv(row, ids = ['native', 'wasmAll', 'wasm1', 'ref']) {
  for (const id of ids) if (row.cells[id]?.value !== undefined) return { id, ...row.cells[id] };
  return null;
}

/** The best wasm column (the issue-5 targets are about the WebAssembly backend, which browsers get). */
export const bestWasm = (row) => bestQkv(row, ['wasmAll', 'wasm1', 'ref']);

/** Runs a peer (node script or python) with a JSON request on stdin; its last stdout line is JSON. */
export function runPeer(command, args, request, timeoutMs = 600_000, env = process.env) {
  const r = spawnSync(command, args, { input: JSON.stringify(request), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20, env });
  if (r.error) return { error: r.error.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : r.error.message };
  const lines = r.stdout.trim().split('\n');
  try {
    const out = JSON.parse(lines[lines.length - 1]);
    if (r.status !== 0 && !out.error) out.error = `exit ${r.status}`;
    return out;
  } catch {
    const err = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] || `exit ${r.status}`;
    return { error: err.slice(0, 200) };
  }
}

export const nodePeer = (script, request, timeoutMs) => runPeer(process.execPath, [`${BENCH_DIR}peers/${script}`], request, timeoutMs);
/**
 * A PyTorch peer script (bench/peers/SCRIPT) in its fastest setting here: run under each
 * OMP_WAIT_POLICY of torchPolicies() and merged by fasterOf (bench/torch-policy.mjs); `wallS` is
 * each whole process's wall time. extraEnv: more variables (e.g. an ISA limit).
 */
export function torchRun(script, args, request, timeoutMs = 600_000, extraEnv = {}) {
  const names = torchPolicies();
  const runs = names.map((policy) => {
    const t0 = performance.now();
    const r = runPeer(PYTHON, [`${BENCH_DIR}peers/${script}`, ...args], request, timeoutMs, withPolicy({ ...process.env, ...extraEnv }, policy));
    return r.error ? r : { ...r, wallS: (performance.now() - t0) / 1000 };
  });
  return fasterOf(runs, names);
}
export const torchPeer = (mode, request, timeoutMs) => torchRun('torch_gpt.py', [mode], request, timeoutMs);
/** The task models (seq2seq, tagger) in plain PyTorch: bench/peers/torch_tasks.py. */
export const torchTasksPeer = (mode, request, timeoutMs) => torchRun('torch_tasks.py', [mode], request, timeoutMs);

let torchProbe;
/** Whether /usr/bin/python3 can import torch: {ok, version, threads} or {ok: false, why}. */
export function torchInfo() {
  if (torchProbe) return torchProbe;
  // which BLAS torch.mm actually loaded (Debian's libblas.so.3 is an alternative: OpenBLAS or the reference BLAS)
  // a wheel links MKL statically (no library in the maps): its build settings name the BLAS
  const script = `import torch, re; torch.set_num_threads(${CORES}); torch.mm(torch.ones(64, 64), torch.ones(64, 64))
blas = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and '/' in l and 'numpy' not in l})
m = re.search(r'BLAS_INFO=([A-Za-z0-9_]+)', torch.__config__.show())
if m and m.group(1) == 'mkl': blas = ['MKL built into torch']
print(torch.__version__, torch.get_num_threads(), ','.join(b.replace(' ', '_') for b in blas) or 'none')`;
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) {
    const [version, threads, blas] = r.stdout.trim().split(/\s+/);
    const libs = blas === 'none' ? [] : blas.split(',');
    const lib = (libs.find((l) => /openblas|mkl|blis|atlas/i.test(l)) ?? libs.find((l) => /libblas/.test(l)) ?? 'none found').replace(/_/g, ' ');
    torchProbe = { ok: true, version, threads: Number(threads), blas: lib, optimisedBlas: /openblas|mkl|blis|atlas/i.test(lib) };
  } else {
    torchProbe = { ok: false, why: r.error ? `${PYTHON} not found` : `${PYTHON} cannot import torch`, install: TORCH_INSTALL };
  }
  return torchProbe;
}

/** Deterministic token ids (a 32-bit LCG), the same for every implementation: it is a speed benchmark. */
export function tokenIds(seed, count, vocab) {
  const out = new Int32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 16) % vocab;
  }
  return out;
}

export const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3)) + ' ms';
export const fmtBytes = (b) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
export const fmtRatio = (x) => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`;

/** A table row: one case, a cell per column (qkv backends, then peers), and an optional target. */
export function makeRow(section, key, label) {
  return { section, key, case: label, cells: {}, target: null };
}

/** Progress goes to stderr so stdout holds only the table (or the JSON). */
export const log = (...a) => process.stderr.write(a.join(' ') + '\n');
