// Where the committed fixture files are (from src or from the compiled dist/ tree), and how a
// value is compared with the PyTorch value a fixture holds.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory upward holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The path of test/fixtures/NAME. */
export function fixturePath(name: string): string {
  return join(repoRoot(), 'test', 'fixtures', name);
}

/** A JSON fixture, parsed. */
export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as T;
}

/** A tensor as a fixture stores it. */
export interface Encoded {
  shape: number[];
  values: number[];
}

/**
 * Asserts a tensor equals a PyTorch value within atol + rtol·|expected|, listing the first
 * elements that differ with the case's name.
 */
export function expectGolden(caseName: string, what: string, actual: { shape: readonly number[]; toTypedArray(): ArrayLike<number> } | null | undefined,
  expected: Encoded, atol: number, rtol: number): void {
  assert.ok(actual, `${caseName}: ${what} is missing (null)`);
  assert.deepEqual(actual.shape, expected.shape, `${caseName}: ${what} has shape [${actual.shape}], expected [${expected.shape}]`);
  const got = actual.toTypedArray();
  const bad: string[] = [];
  for (let i = 0; i < expected.values.length; i++) {
    const a = got[i]!;
    const b = expected.values[i]!;
    if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b))) bad.push(`index ${i}: got ${a}, expected ${b} (diff ${Math.abs(a - b).toExponential(2)})`);
  }
  if (bad.length) {
    assert.fail(`${caseName}: ${what} differs from PyTorch at ${bad.length} of ${expected.values.length} elements `
      + `(atol ${atol}, rtol ${rtol}):\n  ${bad.slice(0, 8).join('\n  ')}${bad.length > 8 ? '\n  ...' : ''}`);
  }
}
