// Ctrl-C and SIGTERM during `qkv train`, with real signals: the run stops between steps, saves
// its last checkpoint at the step reached (atomically: no leftovers), prints one line saying
// where it is, exits 130 / 143, and --resume continues from that step.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));

/** The highest step in the run's log (0 before the first). */
function loggedStep(out: string): number {
  const log = join(out, 'log.jsonl');
  if (!existsSync(log)) return 0;
  let step = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line.includes('"type":"step"')) step = Math.max(step, (JSON.parse(line) as { step: number }).step);
  }
  return step;
}

/** Starts `qkv train tag` for (nearly) ever, sends `signal` once the log passes `after` steps; resolves with its exit and stderr. */
async function interrupt(out: string, signal: NodeJS.Signals, after: number, extra: string[] = []): Promise<{ code: number | null; stderr: string; sentAt: number }> {
  const args = ['train', 'tag', '--builtin', 'ambiguity', '--n', '200', '--max-steps', '1000000', '--eval-every', '20',
    '--d-model', '16', '--layers', '1', '--heads', '2', '--batch-size', '8', '--out', out, ...extra];
  const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  let sentAt = 0;
  for (let waited = 0; waited < 120_000 && p.exitCode === null; waited += 50) {
    sentAt = loggedStep(out);
    if (sentAt >= after) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  p.kill(signal);
  return { code: await exited, stderr, sentAt };
}

test('SIGINT saves the step reached and exits 130 with one line; SIGTERM on the resumed run exits 143; both resume', async () => {
  const out = mkdtempSync(join(tmpdir(), 'qkv-sigint-'));
  const first = await interrupt(out, 'SIGINT', 25);
  assert.equal(first.code, 130, first.stderr);
  const lines = first.stderr.trim().split('\n');
  const m = /^qkv: interrupted by SIGINT at step (\d+); the latest checkpoint is (.+) \(step (\d+)\); continue with --resume$/.exec(lines.at(-1)!);
  assert.ok(m, `the last line says where the checkpoint is:\n${first.stderr}`);
  assert.doesNotMatch(first.stderr, /\n\s+at /, 'no stack trace');
  const step = Number(m[1]);
  assert.equal(Number(m[3]), step);
  assert.equal(m[2], join(out, 'last'));
  assert.ok(step >= first.sentAt, `stopped at or after the step the signal was sent at (${first.sentAt})`);
  assert.equal(JSON.parse(readFileSync(join(out, 'last', 'config.json'), 'utf8')).step, step, 'the checkpoint holds the step the line names');
  assert.deepEqual(readdirSync(out).sort(), ['best', 'last', 'log.jsonl'], 'no half-written save left');

  const second = await interrupt(out, 'SIGTERM', step + 5, ['--resume']);
  assert.equal(second.code, 143, second.stderr);
  const later = Number(/^qkv: interrupted by SIGTERM at step (\d+);/.exec(second.stderr.trim().split('\n').at(-1)!)?.[1]);
  assert.ok(later > step, `the resumed run went on from step ${step} (stopped at ${later})`);
  assert.equal(JSON.parse(readFileSync(join(out, 'last', 'config.json'), 'utf8')).step, later);
  assert.deepEqual(readdirSync(out).sort(), ['best', 'last', 'log.jsonl']);
  rmSync(out, { recursive: true });
});
