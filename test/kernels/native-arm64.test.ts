// The native kernels on ARM64 NEON, under emulation on other machines: scripts/native-arm64.mjs
// cross-compiles the generic kernel table with the stand-alone harness (native/test/harness.cc,
// every kernel family against float64 references) and runs it under qemu-aarch64 (natively on
// ARM64). Skipped, saying why, where the cross compiler or qemu is missing (.ci/run installs them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../scripts/native-arm64.mjs', import.meta.url));

test('the kernels built for ARM64 (NEON) pass the harness under qemu-aarch64', (t) => {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 600_000 });
  if (r.status === 2) return t.skip(r.stdout.trim());
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /kernel table: generic/);
  assert.match(r.stdout, /all checks passed/);
  assert.equal((r.stdout.match(/^ok /gm) ?? []).length, 12, r.stdout);
});
