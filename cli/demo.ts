// `qkv demo` (npm start): the lecture's argument on its own example. Sentences like "I saw a
// saw" where a word's tag depends on its neighbours: a per-position fully-connected tagger
// sees one word and can only guess, a self-attention tagger looks at the whole sentence.
// Trains both on the built-in ambiguity language, prints their accuracies, saves the
// attention model, and draws what its heads look at for one sentence.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { data, describeBackend, getBackend, hostBackendName, hostCopy, isCheckpoint, isDeviceBackend, loadInstance, setBackend, tagAttention, tagDriver, trainSessionAsync, version, type ModelConfig, type TagModel } from '../src/index.js';
import { interruptedRun, withInterrupts } from './interrupts.js';
import { progress } from './progress.js';

export interface DemoOptions {
  steps: number;
  seed: number;
  out: string;
  sentence: string;
}

export async function demo(o: DemoOptions): Promise<void> {
  const start = performance.now();
  const all = data.builtinDataset('ambiguity', { seed: o.seed, n: 2000 });
  const [train, dev] = data.split(all, [0.9, 0.1], o.seed) as [data.TaggedExample[], data.TaggedExample[]];
  console.log(`qkv ${version}: self-attention vs a fully-connected tagger on the lecture's "I saw a saw" (backend ${describeBackend()})`);
  console.log(`${train.length} training and ${dev.length} held-out sentences; ${data.AMBIGUOUS_WORDS.join(', ')} are VERB or NOUN by context\n`);
  const runs: { name: string; dir: string; model: Partial<ModelConfig>; lr: number }[] = [
    { name: 'fully-connected', dir: join(o.out, 'ambiguity-fc'), model: { kind: 'fc', dModel: 64, layers: 2 }, lr: 5e-3 },
    { name: 'self-attention', dir: join(o.out, 'ambiguity-attention'), model: { kind: 'transformer', dModel: 32, layers: 2, heads: 4, pos: 'rope' }, lr: 5e-3 },
  ];
  const results: { name: string; accuracy: number; ambiguous: number; seconds: number }[] = [];
  for (const r of runs) {
    // the demo owns these directories: start them afresh (only if they hold a qkv run)
    if (existsSync(r.dir) && isCheckpoint(join(r.dir, 'last'))) rmSync(r.dir, { recursive: true });
    process.stderr.write(`training the ${r.name} tagger...\n`);
    const bar = progress({ log: join(r.dir, 'log.jsonl'), quiet: true });
    const res = await withInterrupts(async (signal) => {
      const run = await trainSessionAsync(tagDriver, train, dev, {
        out: r.dir, trainer: { maxSteps: o.steps, lr: r.lr, warmup: 30, evalEvery: o.steps, seed: o.seed },
        task: { model: { ...r.model, dropout: 0.1 }, batchSize: 32 }, meta: { builtin: 'ambiguity', demo: true }, onEvent: bar.onEvent, signal,
      }).finally(() => bar.stop());
      if (run.stop?.reason === 'interrupted') {
        throw interruptedRun(signal, run.stop.message, `the ${r.name} tagger's checkpoint is in ${join(r.dir, 'last')} (npm start starts afresh)`);
      }
      return run;
    });
    const m = res.last!.metrics;
    results.push({ name: r.name, accuracy: m.accuracy!, ambiguous: m.ambiguousAccuracy!, seconds: res.seconds });
  }
  console.log('tagger            accuracy   on ambiguous words   training');
  for (const r of results) console.log(`${r.name.padEnd(17)} ${pct(r.accuracy).padStart(8)}   ${pct(r.ambiguous).padStart(18)}   ${r.seconds.toFixed(1)} s`);
  const gain = (results[1]!.ambiguous - results[0]!.ambiguous) * 100;
  console.log(`\nself-attention is ${gain.toFixed(1)} points better on the ambiguous words; its model is in ${join(runs[1]!.dir, 'best')}`);

  const { instance } = loadInstance(tagDriver, runs[1]!.dir);
  const m = instance as unknown as TagModel;
  const words = o.sentence.split(/\s+/).filter(Boolean);
  const tags = (await tagDriver.predictAsync(m, [{ tokens: words }]))[0]!;
  console.log(`\n${words.map((w, i) => `${w}/${tags[i]}`).join(' ')}`);
  const layers = await attentionOf(m, words);
  layers.forEach((heads, l) => {
    console.log(`\nlayer ${l + 1}, attention weights alpha' averaged over ${heads.length} heads (row: the word looking, column: the word looked at)`);
    console.log(heatmap(words, average(heads)));
  });
  console.log(`\n${((performance.now() - start) / 1000).toFixed(1)} s in all. Try: node dist/cli/qkv.js predict --model ${runs[1]!.dir}  (type sentences, end with Ctrl-D)`);
}

/** alpha' of every layer and head; a model on the GPU is read on a host copy (as qkv viz does: every head's weights come back). */
async function attentionOf(m: TagModel, words: string[]): Promise<number[][][][]> {
  if (!isDeviceBackend(getBackend())) return tagAttention(m, { tokens: words });
  const host = hostBackendName();
  const copy = await hostCopy(tagDriver, m, host);
  const before = getBackend().name;
  setBackend(host);
  try {
    return tagAttention(copy, { tokens: words });
  } finally {
    setBackend(before);
    copy.model.dispose();
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function average(heads: number[][][]): number[][] {
  return heads[0]!.map((row, i) => row.map((_, j) => heads.reduce((s, h) => s + h[i]![j]!, 0) / heads.length));
}

/** A terminal heatmap: shade blocks from light to dark, and the weight itself. */
function heatmap(words: string[], w: number[][]): string {
  const shades = [' ', '░', '▒', '▓', '█'];
  const width = Math.max(...words.map((x) => x.length)) + 2;
  const cell = 9;
  const lines = [' '.repeat(width) + words.map((x) => x.slice(0, cell - 1).padEnd(cell)).join('')];
  words.forEach((x, i) => {
    lines.push(x.padEnd(width) + w[i]!.map((a) => `${shades[Math.min(4, Math.round(a * 4))]!.repeat(3)} ${a.toFixed(2)}`.padEnd(cell)).join(''));
  });
  return lines.join('\n');
}
