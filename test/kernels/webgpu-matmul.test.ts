// The WebGPU matrix product in both shapes against the reference backend, over every variant of
// the blocked kernel CPU-emulated adapters run (matmul-blocked.ts): vec4 reads of A and B where
// offsets, strides and sizes allow them and scalar reads where not, the four transposes, edges
// that cut a block (rows, columns, a k tail), batches, a shared B, int32 operands. Both shapes
// compute each output as one fma chain in k order, so they must also agree bit for bit.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Generator, referenceBackend, type TypedArray } from '../../src/index.js';
import { blockedVariant } from '../../src/kernels/webgpu/matmul-blocked.js';
import { runCase, runCaseOnDevice, type KernelCase } from './cases.js';
import { relDiff } from './wasm-setup.js';
import { webgpuBackend, webgpuSkip } from './webgpu-setup.js';

interface Shape { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean; aOff: number; bOff: number; bShared?: boolean; intA?: boolean }

const uniform = (g: Generator) => 2 * g.uniform() - 1;

function matmulCase(s: Shape): KernelCase {
  const aLen = s.aOff + s.batch * s.m * s.k;
  const bLen = s.bOff + (s.bShared ? 1 : s.batch) * s.k * s.n;
  return {
    what: `batch=${s.batch} ${s.m}×${s.k}·${s.k}×${s.n} tA=${s.transA} tB=${s.transB} offsets ${s.aOff}/${s.bOff}${s.bShared ? ' shared b' : ''}${s.intA ? ' int32 a' : ''}`,
    arrays: [
      s.intA ? { dtype: 'int32', length: aLen, init: (g) => Math.floor(g.uniform() * 7) - 3 } : { dtype: 'float32', length: aLen, init: uniform },
      { dtype: 'float32', length: bLen, init: uniform },
      { dtype: 'float32', length: s.batch * s.m * s.n },
    ],
    outputs: [2],
    tol: 1e-5,
    run: (k, [a, b, y]) => k.MatMul({
      a: a!, aOffset: s.aOff, aBatchStride: s.m * s.k, transA: s.transA, b: b!, bOffset: s.bOff, bBatchStride: s.bShared ? 0 : s.k * s.n, transB: s.transB,
      out: y as Float32Array, batch: s.batch, m: s.m, n: s.n, k: s.k,
    }),
  };
}

const SHAPES: Omit<Shape, 'transA' | 'transB'>[] = [
  { batch: 2, m: 12, n: 16, k: 20, aOff: 0, bOff: 4 }, // every size a multiple of 4: vec4 reads of both
  { batch: 1, m: 13, n: 9, k: 8, aOff: 4, bOff: 0 }, // rows and columns cut a block; k a multiple of 4
  { batch: 3, m: 8, n: 12, k: 7, aOff: 0, bOff: 0 }, // a k tail
  { batch: 2, m: 5, n: 3, k: 6, aOff: 3, bOff: 1 }, // nothing aligned: scalar reads
  { batch: 2, m: 8, n: 8, k: 8, aOff: 0, bOff: 1 }, // A aligned, B not
  { batch: 2, m: 8, n: 8, k: 8, aOff: 1, bOff: 0 }, // B aligned, A not
  { batch: 4, m: 16, n: 8, k: 12, aOff: 8, bOff: 4, bShared: true }, // one B for every batch
  { batch: 1, m: 1, n: 1, k: 1, aOff: 0, bOff: 0 },
  { batch: 1, m: 67, n: 130, k: 96, aOff: 0, bOff: 0 }, // several workgroups
  { batch: 1, m: 128, n: 256, k: 8, aOff: 0, bOff: 0 }, // many workgroups
  { batch: 2, m: 8, n: 8, k: 9, aOff: 0, bOff: 0, intA: true },
];
const CASES = SHAPES.flatMap((s) => [false, true].flatMap((transA) => [false, true].map((transB) => ({ ...s, transA, transB }))));

describe('MatMul on webgpu: the blocked kernel\'s variants and the tiled one', { skip: webgpuSkip }, () => {
  after(async () => webgpuBackend().dispose());

  test('the cases reach every vec4 combination of the blocked kernel', () => {
    const seen = new Set(CASES.map((s) => {
      const v = blockedVariant({ ...matmulArgs(s) }, s.intA ? 'int32' : 'float32', 'float32');
      return `${s.transA}:${s.transB}:${v.vecA}:${v.vecB}`;
    }));
    assert.equal(seen.size, 16, [...seen].join(' '));
  });

  test('both shapes match the reference and each other bit for bit', async (t) => {
    const be = webgpuBackend();
    const shared = be.device.shared;
    t.after(() => { be.device.shared = shared; });
    let worst = 0;
    for (const [i, s] of CASES.entries()) {
      const c = matmulCase(s);
      const want = runCase(referenceBackend, c, 500 + i)[0]!;
      const got: TypedArray[] = [];
      for (const flag of [false, true]) {
        be.device.shared = flag;
        const [y] = await runCaseOnDevice(be, c, 500 + i);
        const d = relDiff(y!, want);
        worst = Math.max(worst, d);
        assert.ok(d <= 1e-5, `${c.what} (${flag ? 'tiled' : 'blocked'}): differs from ref by ${d}`);
        got.push(y!);
      }
      assert.deepEqual(Array.from(got[0]!), Array.from(got[1]!), `${c.what}: the blocked and tiled kernels differ`);
    }
    t.diagnostic(`${CASES.length} cases, max error ${worst.toExponential(2)} relative to max(1, |ref|)`);
  });
});

/** The contract's arguments of a shape (for blockedVariant; the arrays do not matter there). */
function matmulArgs(s: Shape) {
  const none = new Float32Array(0);
  return { a: none, aOffset: s.aOff, aBatchStride: s.m * s.k, transA: s.transA, b: none, bOffset: s.bOff, bBatchStride: s.bShared ? 0 : s.k * s.n,
    transB: s.transB, out: none, batch: s.batch, m: s.m, n: s.n, k: s.k };
}
