// The README as a new user meets it: the repository packed (`npm pack`) and installed into a
// separate project, every ```ts block of README.md compiled there with `tsc --strict` against
// the package's own declarations, and every block run with node. A block that cannot run by
// itself says why in its fence (```ts no-run: REASON); one that does not even compile yet says
// so (```ts no-check: REASON) and is a skipped test naming the reason. Blocks that read
// Hugging Face directories find the committed tiny fixtures (test/fixtures/hf) under models/.
// The install needs the npm registry (or npm's cache): where it fails, the suite is skipped
// with npm's reason. Install scripts are skipped (no native build here: qkv runs on wasm).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', '..', '..');

interface Block { line: number; lang: 'ts' | 'js'; info: string; code: string; file: string }

/** Every ```ts / ```js block of a markdown text, with the line its code starts on. */
export function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(ts|js|typescript|javascript)\b(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    const lang = m[1]!.startsWith('t') ? 'ts' : 'js';
    blocks.push({ line: start + 1, lang, info: m[2]!.trim(), code: lines.slice(start, end).join('\n') + '\n', file: `readme-${start + 1}.${lang === 'ts' ? 'ts' : 'mjs'}` });
    i = end;
  }
  return blocks;
}

const noCheck = (b: Block) => /^no-check:\s*(.+)$/.exec(b.info)?.[1] ?? null;
const blocks = codeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
const run = (cmd: string, args: string[], cwd: string, timeout = 240_000) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });

describe('README in a consumer project (npm pack + install, tsc --strict)', () => {
  let dir = '';
  let skip = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qkv-consumer-'));
    const pack = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], root);
    if (pack.status !== 0) { skip = `npm pack failed: ${pack.stderr.trim().split('\n').pop()}`; return; }
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack made a tarball');
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'qkv-consumer', version: '1.0.0', private: true, type: 'module' }));
    const install = run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(dir, tarball)], project);
    if (install.status !== 0) {
      skip = `cannot install the packed qkv (npm install: ${(install.error?.message ?? install.stderr.trim().split('\n').find((l) => /error/.test(l)) ?? 'failed').slice(0, 200)})`;
      return;
    }
    dir = project;
    // a block marked ```ts no-check: REASON is neither compiled nor run (each is a skipped test naming why)
    for (const b of blocks) if (!noCheck(b)) writeFileSync(join(dir, b.file), b.code);
    // the Hugging Face section's directories ('models/gpt2', ...) are the tiny save_pretrained fixtures
    cpSync(join(root, 'test', 'fixtures', 'hf'), join(dir, 'models'), { recursive: true });
    // a consumer's strict project as `tsc --init` makes it (skipLibCheck: true); a second config
    // also checks the package's own declarations
    const options = {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, lib: ['ES2022', 'ESNext.Disposable', 'DOM'],
      typeRoots: [join(root, 'node_modules', '@types')], types: ['node'], outDir: 'out', skipLibCheck: true,
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, include: ['*.ts'] }));
    writeFileSync(join(dir, 'tsconfig.libcheck.json'), JSON.stringify({ compilerOptions: { ...options, skipLibCheck: false, noEmit: true }, include: ['*.ts'] }));
  });
  after(() => { if (dir) rmSync(dir.endsWith('project') ? dirname(dir) : dir, { recursive: true, force: true }); });

  test('the README has TypeScript blocks to check', () => {
    assert.ok(blocks.filter((b) => b.lang === 'ts').length >= 6, `found ${blocks.length} blocks`);
  });

  test('every ```ts block compiles with tsc --strict against the installed package', (t) => {
    if (skip) return t.skip(skip);
    const tsc = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir);
    // name each error by the README line it comes from
    const errors = (tsc.stdout + tsc.stderr).split('\n').filter((l) => l.trim()).map((l) => {
      const m = /^readme-(\d+)\.ts\((\d+),(\d+)\): (.*)$/.exec(l);
      return m ? `README.md:${Number(m[1]) + Number(m[2]) - 1}: ${m[4]}` : l;
    });
    assert.equal(tsc.status, 0, `tsc --strict:\n${errors.join('\n')}`);
  });

  // the WebGPU backend's declarations name GPUDevice, GPUBuffer, ... (not in TypeScript's lib.dom):
  // they reference @webgpu/types (preserved in the .d.ts), a dependency of the package
  test('the package\'s own declarations check too (skipLibCheck: false)', (t) => {
    if (skip) return t.skip(skip);
    const tsc = run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.libcheck.json'], dir);
    assert.equal(tsc.status, 0, `tsc --strict, libraries checked:\n${(tsc.stdout + tsc.stderr).split('\n').slice(0, 10).join('\n')}`);
  });

  for (const b of blocks) {
    test(`README.md:${b.line} (${b.lang}) runs`, (t) => {
      if (skip) return t.skip(skip);
      const noRun = /^no-run:\s*(.+)$/.exec(b.info);
      if (noRun) return t.skip(`marked no-run: ${noRun[1]}`);
      if (noCheck(b)) return t.skip(`marked no-check: ${noCheck(b)}`);
      const file = b.lang === 'ts' ? join('out', b.file.replace(/\.ts$/, '.js')) : b.file;
      const r = run(process.execPath, [file], dir, 300_000);
      if (process.env.QKV_SHOW_README) process.stderr.write(`README.md:${b.line}:\n${r.stdout}`);
      assert.equal(r.status, 0, `README.md:${b.line}: exit ${r.status} ${r.signal ?? ''}\n${r.stderr.slice(-2000)}`);
    });
  }
});
