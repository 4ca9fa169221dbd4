// Checks shared by the CLI tests on a finished `qkv` process (spawnSync's result).
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';

/** Exit 0, or fail showing the command's stderr. */
export function ok(r: SpawnSyncReturns<string>, what: string): void {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
}

/** Exits non-zero with one line on stderr that matches (plus commander's usage hint at most), no stack trace. */
export function failsWith(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.notEqual(r.status, 0);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(lines.length <= 2, `one line (plus a usage hint), got:\n${r.stderr}`);
}
