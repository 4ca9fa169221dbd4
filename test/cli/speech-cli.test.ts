// Speech end to end: `qkv train classify --builtin spoken` (the committed espeak-ng anagram
// words) with self-attention against the frame-by-frame FC baseline; predict on a WAV path
// with the checkpoint's front end; info; one-line errors for bad WAV files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { failsWith, ok } from './expect.js';
import { fixturePath, repoRoot } from '../fixtures.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-speech-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, cwd: dir });
const spoken = (name: string) => join(repoRoot(), 'data', 'spoken', name);
const kws = ['--builtin', 'spoken', '--max-steps', '120', '--eval-every', '120', '--d-model', '32', '--layers', '2', '--mel-bins', '40', '--cmvn', 'meanvar',
  '--dropout', '0', '--batch-size', '16', '--json'];

test('keyword spotting on the spoken anagrams: self-attention beats chance (1/7) by far and the FC-per-frame baseline', () => {
  const r = run(['train', 'classify', ...kws, '--out', join(dir, 'sa')]);
  ok(r, 'train transformer');
  const sa = JSON.parse(r.stdout).metrics.accuracy as number;
  const f = run(['train', 'classify', ...kws, '--model', 'fc', '--out', join(dir, 'fc')]);
  ok(f, 'train fc');
  const fc = JSON.parse(f.stdout).metrics.accuracy as number;
  // measured: 0.97 vs 0.21 (stop/pots/tops/spot and cat/act/tack share their sounds; only order tells them apart)
  assert.ok(sa >= 0.7, `self-attention accuracy ${sa}`);
  assert.ok(sa >= fc + 0.3, `self-attention ${sa} vs FC ${fc}`);

  const info = run(['info', join(dir, 'sa')]);
  ok(info, 'info');
  assert.match(info.stdout, /input +log-mel: 40 mel filters .*25 ms povey windows every 10 ms at 16000 Hz.*normalisation meanvar; resampling: windowed sinc/);
  assert.match(info.stdout, /"window":50/, 'truncated attention by default for audio');
  const j = JSON.parse(run(['info', join(dir, 'sa'), '--json']).stdout);
  assert.equal(j.frontEnd.numMelBins, 40);

  // predict: one WAV path, or a list of paths; the checkpoint's front end makes the features
  const p = run(['predict', '--model', join(dir, 'sa'), '--input', spoken('cat-03.wav')]);
  ok(p, 'predict wav');
  assert.match(p.stdout, /cat-03\.wav\t(stop|pots|tops|spot|cat|act|tack)\n$/);
  const list = join(dir, 'paths.txt');
  writeFileSync(list, `${spoken('stop-01.wav')}\n${spoken('act-02.wav')}\tignored\n`);
  const pl = run(['predict', '--model', join(dir, 'sa'), '--input', list, '--json']);
  ok(pl, 'predict list');
  assert.equal(pl.stdout.trim().split('\n').length, 2);
  assert.ok(JSON.parse(pl.stdout.split('\n')[0]!).path.endsWith('stop-01.wav'));
  const ev = run(['eval', '--model', join(dir, 'sa'), '--data', spoken('list.tsv'), '--json']);
  ok(ev, 'eval');
  assert.equal(JSON.parse(ev.stdout).examples, 168);

  // bad WAV files: one line naming the file
  for (const [name, re] of [['truncated.wav', /truncated WAV header/], ['mulaw.wav', /unsupported WAV encoding µ-law/], ['float64.wav', /64-bit float/], ['empty.wav', /file is empty/]] as const) {
    copyFileSync(fixturePath(`audio/${name}`), join(dir, name));
    failsWith(run(['predict', '--model', join(dir, 'sa'), '--input', join(dir, name)]), new RegExp(`^qkv: .*${name.replace('.', '\\.')}: .*${re.source}`));
  }
  writeFileSync(join(dir, 'bad-list.tsv'), 'ok.wav\tstop\ntruncated.wav\tstop\n');
  copyFileSync(spoken('stop-01.wav'), join(dir, 'ok.wav'));
  failsWith(run(['train', 'classify', '--train', join(dir, 'bad-list.tsv'), '--out', join(dir, 'x'), '--max-steps', '1']), /truncated\.wav: truncated WAV header/);
  failsWith(run(['train', 'classify', '--builtin', 'spoken', '--mel-bins', '0', '--out', join(dir, 'y')]), /--mel-bins/);
});

test('frame tagging from WAV files with time-aligned labels; predict prints a label per frame', () => {
  for (const f of ['speech-16k.wav', 'speech-8k.wav']) copyFileSync(fixturePath(`audio/${f}`), join(dir, f));
  // 0.3 s and 0.25 s: "lo" then "hi" halves, in seconds
  writeFileSync(join(dir, 'frames.tsv'), 'speech-16k.wav\t0-0.15:lo 0.15-1:hi\nspeech-8k.wav\t0-0.12:lo 0.12-1:hi\n');
  const r = run(['train', 'tag', '--train', join(dir, 'frames.tsv'), '--dev', join(dir, 'frames.tsv'), '--mel-bins', '23', '--max-steps', '2', '--eval-every', '2',
    '--d-model', '8', '--layers', '1', '--heads', '2', '--json', '--out', join(dir, 'tagger')]);
  ok(r, 'train tag on wav');
  const p = run(['predict', '--model', join(dir, 'tagger'), '--input', join(dir, 'speech-8k.wav')]);
  ok(p, 'predict frames');
  const tags = p.stdout.trim().split('\t')[1]!.split(' ');
  assert.equal(tags.length, 23); // 0.25 s at 16 kHz: 1 + (4000 - 400) / 160 frames
  assert.ok(tags.every((t) => t === 'lo' || t === 'hi'));
});
