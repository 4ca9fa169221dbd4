// scripts/check-layers.mjs (run by npm test) passes on the repository and fails, naming each
// problem, on a small tree with one of every problem it checks: an import circle outside
// src/tensor/, a comparison with a built-in attention kind's name, an upward import, an op
// importing a backend, ref importing wasm, the CLI importing the page or a private module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(root, 'scripts', 'check-layers.mjs');

test('the layer check passes on the repository', () => {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('the layer check names each problem of a tree that has them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-layers-'));
  const files: Record<string, string> = {
    'src/browser.ts': '',
    'src/index.ts': '',
    'src/nn/a.ts': "import { b } from './b.js';\nexport const a = 1;\n",
    'src/nn/b.ts': "import { a } from './a.js';\nexport const b = 2;\n",
    'src/tensor/x.ts': "import { y } from './y.js';\n",
    'src/tensor/y.ts': "import { x } from './x.js';\n",
    'src/io/export.ts': "export const recurrent = (c: { attention: string }) => c.attention === 'linear';\n",
    'src/nn/attention/kinds/linear.ts': "export const isLinear = (kind: string) => kind === 'linear';\n",
    'src/ops/matmul.ts': "import { matMul } from '../kernels/ref/matmul.js';\nimport { T } from '../tasks/t.js';\n",
    'src/kernels/ref/matmul.ts': "import { ptr } from '../wasm/util.js';\n",
    'src/kernels/wasm/util.ts': "import { copy } from '../ref/copy.js';\n",
    'src/kernels/ref/copy.ts': '',
    'src/tasks/t.ts': '',
    'cli/viz.ts': "import type { ModelInfo } from '../web/main.js';\nimport { x } from '../src/tasks/t.js';\n",
    'web/main.ts': "const show = (r: { model: { attention: string } }) => r.model.attention !== 'softmax';\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n').slice(1).map((l) => l.trim());
  const expected = [
    /^import circle: src\/nn\/a\.ts <-> src\/nn\/b\.ts$/,
    /^src\/io\/export\.ts:1: tests an attention kind's name \(c\.attention === 'linear'\)/,
    /^web\/main\.ts:1: tests an attention kind's name \(r\.model\.attention !== 'softmax'\)/,
    /^src\/ops\/matmul\.ts imports the backend \.\.\/kernels\/ref\/matmul\.js directly/,
    /^src\/ops\/matmul\.ts imports \.\.\/tasks\/t\.js \(a higher layer\)/,
    /^src\/kernels\/ref\/matmul\.ts imports \.\.\/wasm\/util\.js: a ref kernel may import only the backends below it/,
    /^cli\/viz\.ts imports \.\.\/web\/main\.js; cli\/ does not import the page/,
    /^cli\/viz\.ts imports \.\.\/src\/tasks\/t\.js; cli\/ may use only the public API/,
  ];
  for (const re of expected) assert.ok(lines.some((l) => re.test(l)), `no line matches ${re}:\n${lines.join('\n')}`);
  // what is allowed: tensor/'s own circle, a kind's own definition, wasm falling back to ref
  assert.equal(lines.length, expected.length, lines.join('\n'));
});
