// The training steps the bench profiles and times beyond the baby GPT: each task at a realistic
// shape on seeded synthetic data (nothing is downloaded). A workload makes its examples, its
// qkv model and a step() that trains on the next batch as `qkv train` would (the task's own
// batches, length-bucketed for seq2seq and the taggers as `--bucket` draws them, AdamW); `batches` are the same
// batches as plain arrays, for the PyTorch peers (bench/peers/torch_tasks.py).
//
//   seq2seq   Multi30k-sized translation: 10,000-word source and target vocabularies, sentences
//             of 6-24 words, d 128, 4 heads, 2+2 layers, ff 512, batch 64
//   tagger    a word tagger with the char CNN: 20,000 words, 17 tags (UPOS), sentences of 8-40
//             words, transformer d 128, 4 heads, 2 layers, batch 32
//   classify  text classification (SST-sized): 15,000 words, 5-50 words, d 128, 2 layers, batch 32
//   vit       a ViT on 32×32 RGB images (CIFAR-sized): patches 4×4, d 128, 4 heads, 4 layers, 10 classes, batch 64
//   speech    a frame tagger on 300 frames of 40 filterbank features, 40 phone labels, d 128, 4 layers, batch 8
// `tiny` shrinks every one of them (the bench's --quick: a check that everything runs).
import { q } from './lib.mjs';

export const WORKLOADS = ['seq2seq', 'tagger', 'classify', 'vit', 'speech'];

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** A distinct spelling for word i: base-26 letters (3 or more) and a vowel. */
function word(i) {
  let s = '';
  let n = i;
  do { s += LETTERS[n % 26]; n = Math.floor(n / 26); } while (n > 0 || s.length < 3);
  return s + 'aeiou'[i % 5];
}

/** Zipf-like word ids in [0, vocab): frequent words first, as in text. */
const zipf = (g, vocab) => Math.min(vocab - 1, Math.floor(vocab * g.uniform() ** 3));

/** n sentences of lo..hi words from a vocabulary of `vocab` words; every word appears at least once. */
function sentences(g, n, vocab, lo, hi) {
  let next = 0; // the first sentences walk through the whole vocabulary
  return Array.from({ length: n }, () => {
    const len = lo + Math.floor(g.uniform() * (hi - lo + 1));
    return Array.from({ length: len }, () => word(next < vocab ? next++ : zipf(g, vocab)));
  });
}

export function shapes(tiny) {
  return tiny
    ? {
      seq2seq: { vocab: 300, lo: 3, hi: 9, n: 400, dModel: 32, heads: 4, layers: 1, ff: 64, batch: 16 },
      tagger: { vocab: 400, tags: 5, lo: 3, hi: 12, n: 300, dModel: 32, heads: 4, layers: 1, batch: 8 },
      classify: { vocab: 400, labels: 2, lo: 3, hi: 12, n: 300, dModel: 32, heads: 4, layers: 1, batch: 8 },
      vit: { side: 8, patch: 4, classes: 3, n: 64, dModel: 32, heads: 4, layers: 1, batch: 8 },
      speech: { frames: 30, dim: 8, phones: 6, n: 24, dModel: 32, heads: 4, layers: 1, batch: 4 },
    }
    : {
      seq2seq: { vocab: 10000, lo: 6, hi: 24, n: 12000, dModel: 128, heads: 4, layers: 2, ff: 512, batch: 64 },
      tagger: { vocab: 20000, tags: 17, lo: 8, hi: 40, n: 4000, dModel: 128, heads: 4, layers: 2, batch: 32 },
      classify: { vocab: 15000, labels: 2, lo: 5, hi: 50, n: 3000, dModel: 128, heads: 4, layers: 2, batch: 32 },
      vit: { side: 32, patch: 4, classes: 10, n: 640, dModel: 128, heads: 4, layers: 4, batch: 64 },
      speech: { frames: 300, dim: 40, phones: 40, n: 96, dModel: 128, heads: 4, layers: 4, batch: 8 },
    };
}

/** The examples of workload `name` (seeded). */
function examples(name, s, g) {
  switch (name) {
    case 'seq2seq': {
      const src = sentences(g, s.n, s.vocab, s.lo, s.hi);
      const tgt = sentences(g, s.n, s.vocab, s.lo, s.hi).map((t) => t.map((w) => `T${w}`));
      return src.map((source, i) => ({ source, target: tgt[i].slice(0, Math.max(1, source.length + Math.floor(g.uniform() * 5) - 2)) }));
    }
    case 'tagger':
      return sentences(g, s.n, s.vocab, s.lo, s.hi).map((tokens) => ({ tokens, labels: tokens.map((w) => `TAG${w.length % s.tags}`) }));
    case 'classify':
      return sentences(g, s.n, s.vocab, s.lo, s.hi).map((tokens, i) => ({ tokens, label: `L${i % s.labels}` }));
    case 'vit':
      return Array.from({ length: s.n }, (_, i) => ({
        image: { channels: 3, height: s.side, width: s.side, data: Float32Array.from({ length: 3 * s.side * s.side }, () => g.uniform() * 2 - 1) },
        label: `C${i % s.classes}`,
      }));
    case 'speech':
      return Array.from({ length: s.n }, () => {
        const frames = Array.from({ length: s.frames }, () => Array.from({ length: s.dim }, () => g.uniform() * 2 - 1));
        return { frames, labels: frames.map((_, t) => `P${Math.floor(t / 7) % s.phones}`) };
      });
    default: throw new Error(`unknown workload ${name}`);
  }
}

function instance(name, s, train, g) {
  const model = { kind: 'transformer', dModel: s.dModel, heads: s.heads, layers: s.layers, dropout: 0.1, pos: 'sinusoidal' };
  switch (name) {
    case 'seq2seq': {
      const m = q.seq2seqDriver.create(train, { model: { dModel: s.dModel, heads: s.heads, layers: s.layers, ff: s.ff, dropout: 0.1 }, generator: g });
      return { m, task: q.seq2seqDriver.training(m, train, train.slice(0, 4), { batchSize: s.batch, bucket: true }) };
    }
    case 'tagger': case 'speech': {
      const m = q.tagDriver.create(train, { model, generator: g });
      return { m, task: q.tagDriver.training(m, train, train.slice(0, 4), { batchSize: s.batch, wordDropout: 0, bucket: true }) };
    }
    case 'classify': case 'vit': {
      const m = q.classifyDriver.create(train, { model: name === 'vit' ? { ...model, patch: s.patch } : model, generator: g });
      return { m, task: q.classifyDriver.training(m, train, train.slice(0, 4), { batchSize: s.batch }) };
    }
    default: throw new Error(`unknown workload ${name}`);
  }
}

/** A batch's tensors as plain arrays (what the PyTorch peers read): ids as JSON arrays, floats as base64 float32 bytes. */
function plain(name, b) {
  const arr = (t) => {
    if (!t) return null;
    const data = t.toTypedArray();
    if (data instanceof Float32Array) return { shape: t.shape, f32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
    return { shape: t.shape, data: Array.from(data) };
  };
  if (name === 'seq2seq') return { src: arr(b.src), srcPad: arr(b.srcPad), tgtIn: arr(b.tgtIn), tgtPad: arr(b.tgtPad), labels: arr(b.labels) };
  const i = b.input;
  return { ids: arr(i.ids), chars: arr(i.chars), wordIndex: arr(i.wordIndex), frames: arr(i.frames), images: arr(i.images), pad: arr(i.keyPaddingMask), labels: arr(b.labels) };
}

/** The padding in a plain batch: label positions ignored (-100), or else the padded input positions. */
function padding(p) {
  const y = p.labels.data;
  if (y.length > p.labels.shape[0] || p.tgtIn) return { padded: y.filter((v) => v === -100).length, positions: y.length };
  const m = p.pad?.data ?? [];
  return { padded: m.filter((v) => v === 1).length, positions: m.length };
}

/**
 * Workload `name` on the active backend: step() trains on the next batch (batches drawn in
 * epochs as the Trainer draws them, seeded); `peer` describes the model and `steps` batches as
 * arrays when asked (for PyTorch). dispose() frees the model.
 */
export function workload(name, { tiny = false, steps = 0, seed = 1 } = {}) {
  const s = shapes(tiny)[name];
  const g = new q.Generator(seed);
  const train = examples(name, s, g);
  const { m, task } = instance(name, s, train, new q.Generator(seed + 1));
  m.model.train();
  const opt = new q.AdamW(m.model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
  const sampler = new q.EpochSampler(task.examples, task.batchSize, seed, undefined, task.lengths ?? null);
  const dataRng = new q.Generator(seed + 2);
  const nextBatch = () => task.batchOf(sampler.next(), dataRng);
  let loss = NaN;
  let loss0 = NaN; // the first step's loss (the untrained model's, on the first batch)
  let padded = 0;
  let positions = 0;
  const step = () => {
    loss = q.tidy(() => {
      const b = nextBatch();
      const l = task.loss(b);
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l.item();
    });
    if (Number.isNaN(loss0)) loss0 = loss;
  };
  // the peers' batches: the next `steps` batches of a sampler of their own, same seed
  let peer = null;
  if (steps > 0) {
    const own = new q.EpochSampler(task.examples, task.batchSize, seed, undefined, task.lengths ?? null);
    const rng = new q.Generator(seed + 2);
    const batches = [];
    for (let i = 0; i < steps; i++) {
      q.tidy(() => {
        const b = task.batchOf(own.next(), rng);
        const p = plain(name, b);
        const c = padding(p);
        padded += c.padded;
        positions += c.positions;
        batches.push(p);
      });
    }
    const sizes = name === 'seq2seq' ? { srcVocab: m.source.size, tgtVocab: m.target.size } : {
      vocab: m.featurizer.words?.size ?? 0, chars: m.featurizer.chars?.size ?? 0, labels: m.labels?.size ?? m.labels?.names?.length,
    };
    peer = { name, shape: s, sizes, batches, padded: positions ? padded / positions : 0 };
  }
  return {
    shape: s, step, peer, loss: () => loss, loss0: () => loss0,
    params: m.model.parameters().reduce((n, p) => n + p.size, 0),
    dispose: () => { opt.dispose(); m.model.dispose?.(); },
  };
}
