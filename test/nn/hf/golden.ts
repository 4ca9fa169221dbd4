// Shared by the Hugging Face golden tests: the fixture directories that scripts/golden_hf.py
// writes, their golden tensors, and the largest difference from them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, tensor, type Tensor } from '../../../src/index.js';
import { fixturePath } from '../../fixtures.js';

export const hfDir = (name: string): string => fixturePath(join('hf', name));

export function goldenTensors(name: string, file = 'golden.safetensors'): Map<string, Tensor> {
  return loadSafetensors(join(hfDir(name), file)).tensors;
}

export function goldenJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(hfDir(name), 'golden.json'), 'utf8')) as T;
}

/** int32 (B, T) from nested lists. */
export const ids = (rows: number[][]): Tensor => tensor(rows, { dtype: 'int32' });

/** max |a - b| after checking the shapes agree. */
export function maxAbsDiff(actual: Tensor, expected: Tensor, what: string): number {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape ${actual.shape} != ${expected.shape}`);
  const a = actual.toTypedArray();
  const e = expected.toTypedArray();
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - e[i]!));
  return m;
}

/** Asserts every tensor is within tol of its golden value; returns the largest difference. */
export function assertGolden(pairs: [string, Tensor, Tensor | undefined][], tol = 1e-4): number {
  let worst = 0;
  for (const [what, actual, expected] of pairs) {
    assert.ok(expected, `${what}: no golden value`);
    const d = maxAbsDiff(actual, expected!, what);
    assert.ok(d <= tol, `${what}: max |diff| ${d.toExponential(2)} > ${tol}`);
    worst = Math.max(worst, d);
  }
  return worst;
}
