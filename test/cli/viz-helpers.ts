// Shared by the visualizer tests: tiny trained models (a few steps, about a second), the
// `qkv viz` server started as a child process, and the library's inspection of a model dir.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchAttention } from '../../cli/viz/watch.js';
import {
  data, inspectModel, lmDriver, loadInstance, seq2seqDriver, tagDriver, trainSession, type InspectableModel, type InspectOptions, type ModelInspection,
  type Seq2SeqInput, type TaskDriver, type TaskInstance,
} from '../../src/index.js';
import { syntheticText } from '../tasks/lm-text.js';

export const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));

/** Trains a tag model for a few steps on a built-in set and returns its run directory. */
export function tinyModel(model: Record<string, unknown> = {}, builtin: 'ambiguity' | 'graph' | 'speech' = 'ambiguity', watch?: string): string {
  const out = mkdtempSync(join(tmpdir(), 'qkv-viz-'));
  const all = data.builtinDataset(builtin, { seed: 0, n: 60 }) as data.TaggedExample[];
  trainSession(tagDriver as TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown>, all.slice(10), all.slice(0, 10), {
    out, trainer: { maxSteps: watch ? 6 : 3, evalEvery: watch ? 2 : 3, lr: 1e-2, seed: 0 }, ...(watch ? { onEvaluated: watchAttention(out, watch) } : {}),
    task: { model: { kind: 'transformer', dModel: 16, heads: 2, layers: 2, dropout: 0, ...model }, batchSize: 8 }, meta: { builtin },
  });
  return out;
}

/** A classify model trained for two steps by the CLI on a built-in set read through a front end (spoken: WAV files, shapes: images); its run directory. */
export function mediaModel(builtin: 'spoken' | 'shapes'): string {
  const out = join(mkdtempSync(join(tmpdir(), `qkv-viz-${builtin}-`)), 'run');
  const r = spawnSync(process.execPath, [bin, 'train', 'classify', '--builtin', builtin, ...(builtin === 'shapes' ? ['--n', '40'] : []),
    '--max-steps', '2', '--eval-every', '2', '--d-model', '16', '--heads', '4', '--layers', '2', '--dropout', '0', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/** The built-in spoken set's recordings (data/spoken). */
export const SPOKEN = fileURLToPath(new URL('../../../data/spoken/', import.meta.url));

/** What the library says for this model and input. */
export function libraryInspection(dir: string, input: data.TaggedExample | { tokens?: string[]; frames?: number[][]; edges?: [number, number][] }): ModelInspection {
  const { instance } = loadInstance(tagDriver as TaskDriver<TaskInstance, unknown, unknown, unknown>, dir);
  return inspectModel(instance as unknown as InspectableModel, input);
}

type AnyDriver = TaskDriver<TaskInstance, unknown, unknown, unknown>;

/** A GPT (char-level, 2 layers x 2 heads, block 32) or a seq2seq model (reverse) trained for a few steps; its run directory. `watch`: a --viz probe, recorded at steps 2 and 4. */
export function tinyDecoder(task: 'lm' | 'seq2seq', model: Record<string, unknown> = {}, watch?: string): string {
  const out = mkdtempSync(join(tmpdir(), `qkv-viz-${task}-`));
  const trainer = { maxSteps: watch ? 4 : 3, evalEvery: watch ? 2 : 3, lr: 1e-2, seed: 0 };
  const onEvaluated = watch ? { onEvaluated: watchAttention(out, watch) } : {};
  if (task === 'lm') {
    trainSession(lmDriver as AnyDriver, [syntheticText(2000, 5)], [], {
      out, trainer, ...onEvaluated, task: { model: { nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 32, ...model }, batchSize: 4, evalIters: 2 }, meta: { prompt: 'the cat' },
    });
  } else {
    const all = data.builtinDataset('reverse', { seed: 0, n: 60 });
    trainSession(seq2seqDriver as AnyDriver, all.slice(10), all.slice(0, 10), {
      out, trainer, ...onEvaluated, task: { model: { dModel: 16, heads: 2, layers: 2, ff: 32, dropout: 0, ...model }, batchSize: 8 }, meta: { builtin: 'reverse' },
    });
  }
  return out;
}

/** The library's inspection of a decoder model in `dir`: a prompt (lm) or a source (seq2seq). */
export function libraryDecoderInspection(dir: string, task: 'lm' | 'seq2seq', input: string | Seq2SeqInput, options: InspectOptions = {}): ModelInspection {
  const { instance } = loadInstance((task === 'lm' ? lmDriver : seq2seqDriver) as AnyDriver, dir);
  return inspectModel(instance as unknown as InspectableModel, input, options);
}

export interface Running { child: ChildProcess; url: string; stderr: () => string }

/** Starts `qkv viz` and waits for the URL it prints. */
export function startViz(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [bin, 'viz', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`qkv viz printed no URL in 30 s: ${out} ${err}`)); }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1]!, stderr: () => err }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`qkv viz exited with ${code}: ${err}`)); });
  });
}

export function stop(r: Running): Promise<void> {
  return new Promise((resolve) => {
    if (r.child.exitCode !== null) return resolve();
    r.child.once('exit', () => resolve());
    r.child.kill();
  });
}
