// Conv1d and its gradients on wasm (im2col / col2im moves around the wasm GEMM) against the
// reference: strides, dilation, groups, padding wider than the input, each counted as calls into
// the wasm exports (so a silent fallback to the reference fails); the char CNN's shape on 1 and 2
// threads, bit-equal (the GEMM's parts do not depend on the thread count).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Generator } from '../../src/index.js';
import type { Conv1dArgs } from '../../src/kernels/contract.js';
import { convArgs } from './cases.js';
import { createWasmBackendSync } from '../../src/kernels/wasm/node.js';
import { arrays, fillRandom, ref, relDiff, setup, skip } from './wasm-setup.js';

const CASES: Conv1dArgs[] = [
  convArgs(2, 4, 6, 2, 11, 3, 2, 1, 1, 1),
  convArgs(3, 5, 7, 1, 13, 3, 1, 1, 1, 1), // 'same'
  convArgs(2, 6, 9, 3, 17, 4, 3, 2, 1, 2), // groups, stride, dilation, uneven padding
  convArgs(1, 3, 3, 3, 4, 5, 1, 3, 3, 1), // depthwise, padding wider than the input
  convArgs(2, 2, 3, 1, 10, 2, 2, 0, 0, 3), // no padding, dilation > stride
  convArgs(40, 16, 64, 1, 12, 3, 1, 1, 1, 1), // the char CNN: words × characters
];
const sizes = (a: Conv1dArgs) => [a.batch * a.cin * a.length, a.cout * (a.cin / a.groups) * a.kernel, a.batch * a.cout * a.outLength];
const what = (a: Conv1dArgs) => `B=${a.batch} Cin=${a.cin} Cout=${a.cout} g=${a.groups} L=${a.length} K=${a.kernel} s=${a.stride} p=${a.padLeft} d=${a.dilation}`;

describe('wasm Conv1d', { skip }, () => {
  test('forward, grad-input and grad-weight within 1e-5 of the reference, on the wasm exports', () => {
    const s = setup();
    const g = new Generator(31);
    for (const a of CASES) {
      const [nx, nw, ny] = sizes(a);
      const get = arrays(s, [nx, nw, ny, ny, nx, nw]);
      for (const i of [0, 1, 3]) fillRandom(get()[i]!, g);
      // views are re-read after each call: the kernels' scratch may grow (and detach) the memory
      const v = () => get() as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
      const ey = new Float32Array(ny);
      ref.Conv1d(v()[0], v()[1], a, ey);
      s.kernels.Conv1d(v()[0], v()[1], a, v()[2]);
      assert.ok(relDiff(v()[2], ey) < 1e-5, `Conv1d ${what(a)}: ${relDiff(v()[2], ey)}`);
      const edx = new Float32Array(nx);
      ref.Conv1dGradInput(v()[3], v()[1], a, edx);
      s.kernels.Conv1dGradInput(v()[3], v()[1], a, v()[4]);
      assert.ok(relDiff(v()[4], edx) < 1e-5, `Conv1dGradInput ${what(a)}: ${relDiff(v()[4], edx)}`);
      const edw = new Float32Array(nw);
      ref.Conv1dGradWeight(v()[3], v()[0], a, edw);
      s.kernels.Conv1dGradWeight(v()[3], v()[0], a, v()[5]);
      assert.ok(relDiff(v()[5], edw) < 1e-5, `Conv1dGradWeight ${what(a)}: ${relDiff(v()[5], edw)}`);
    }
    assert.equal(s.calls.get('im2col'), 2 * CASES.length); // forward and grad-weight
    assert.equal(s.calls.get('col2im'), CASES.length);
    assert.equal(s.calls.get('transpose_batched'), 3 * CASES.length);
    const groups = CASES.reduce((t, a) => t + a.groups, 0);
    assert.equal(s.calls.get('gemm'), 3 * groups, 'one GEMM per group per kernel');
  });

  test('a padded input position outside every tap gets a zero gradient, and scratch is given back', () => {
    const s = setup();
    const a = convArgs(1, 2, 2, 1, 9, 2, 4, 0, 0, 1); // outputs read 0-1 and 4-5: positions 2, 3, 6, 7, 8 by none
    const [nx, nw, ny] = sizes(a);
    const used = s.allocator.stats().used;
    const get = arrays(s, [nx, nw, ny, nx]);
    get()[1]!.fill(1);
    get()[2]!.fill(1);
    get()[3]!.fill(NaN);
    const usedBefore = s.allocator.stats().used;
    s.kernels.Conv1dGradInput(get()[2]!, get()[1]!, a, get()[3]!);
    assert.deepEqual(Array.from(get()[3]!.subarray(0, 9)), [2, 2, 0, 0, 2, 2, 0, 0, 0]);
    assert.equal(s.allocator.stats().used, usedBefore, 'the column matrix and dyT are freed');
    assert.ok(usedBefore > used);
    assert.equal(s.calls.get('col2im'), 1);
  });

  test('the char CNN on 1 and 2 threads: bit-equal', () => {
    const a = convArgs(96, 16, 64, 1, 14, 3, 1, 1, 1, 1);
    const run = (threads: number) => {
      const b = createWasmBackendSync({ threads, name: `conv-${threads}` });
      try {
        const [nx, nw, ny] = sizes(a);
        const blocks = [nx, nw, ny, ny, nx, nw].map((n) => b.allocator.allocate('float32', n));
        const g = new Generator(5);
        for (const i of [0, 1, 3]) fillRandom(blocks[i]!.view() as Float32Array, g);
        const v = (i: number) => blocks[i]!.view() as Float32Array; // re-read: scratch may grow the memory
        b.kernels.Conv1d!(v(0), v(1), a, v(2));
        b.kernels.Conv1dGradInput!(v(3), v(1), a, v(4));
        b.kernels.Conv1dGradWeight!(v(3), v(0), a, v(5));
        return [2, 4, 5].map((i) => Array.from(v(i)));
      } finally {
        b.dispose();
      }
    };
    const [one, two] = [run(1), run(2)];
    for (let i = 0; i < 3; i++) assert.deepEqual(two[i], one[i], ['y', 'dx', 'dw'][i]);
  });
});
