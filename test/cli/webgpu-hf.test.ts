// The Hugging Face paths of the CLI on --backend webgpu (SwiftShader where there is no GPU):
// `qkv generate` on a GPT-2 directory runs there and prints the native backend's text; predict
// and export, which read values synchronously, are one line naming the backend and what to do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeAvailable } from '../../src/index.js';
import { fixturePath } from '../fixtures.js';
import { webgpuSkip } from '../webgpu-setup.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const skip = webgpuSkip || (nativeAvailable() ? false : 'the native addon is not built here');
const qkv = (backend: string, args: string[], input?: string) => spawnSync(process.execPath, [bin, '--backend', backend, ...args], { encoding: 'utf8', input });

test('qkv generate on a GPT-2 directory on webgpu prints native\'s text (greedy and sampled)', { skip }, () => {
  for (const flags of [['--temperature', '0'], ['--temperature', '0.8', '--seed', '5', '--num-samples', '2']]) {
    const args = ['generate', '--model', fixturePath('hf/gpt2'), '--prompt', 'The attention', '--max-new-tokens', '8', ...flags];
    const [gpu, cpu] = [qkv('webgpu', args), qkv('native', args)];
    assert.equal(gpu.status, 0, gpu.stderr);
    assert.equal(cpu.status, 0, cpu.stderr);
    assert.equal(gpu.stdout, cpu.stdout);
  }
});

test('qkv predict and export on a Hugging Face directory on webgpu: one line naming the backend', { skip }, () => {
  const line = (what: string) => `qkv: --backend webgpu: ${what} on a Hugging Face directory runs on host backends only (it reads values synchronously; qkv generate and qkv viz run on webgpu); use --backend native (or wasm)`;
  const p = qkv('webgpu', ['predict', '--model', fixturePath('hf/bert-token')], 'I saw a saw\n');
  assert.equal(p.status, 1);
  assert.equal(p.stderr.trim().split('\n').at(-1), line('qkv predict'));
  const e = qkv('webgpu', ['export', '--model', fixturePath('hf/gpt2-lora-peft'), '--merge-lora', '--out', join(tmpdir(), 'qkv-never-written')]);
  assert.equal(e.status, 1);
  assert.equal(e.stderr.trim().split('\n').at(-1), line('qkv export'));
  assert.ok(!existsSync(join(tmpdir(), 'qkv-never-written')));
});
