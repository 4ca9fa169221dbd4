// `qkv demo`: the engine at work on the lecture's example. Two taggers learn part-of-speech
// tags for sentences like "I saw a saw": a per-position fully-connected network (it sees one
// word, so both "saw" get one tag) and one self-attention layer built from the engine's ops
// (every word looks at the whole sentence). Until the nn modules land, the models are
// written here from raw ops with the lecture's names.
import * as q from '../src/index.js';
import { Generator, type Tensor } from '../src/index.js';

const PRON = ['I', 'you', 'we', 'they'];
const DET = ['a', 'the'];
const VERB = ['saw', 'cut', 'see'];
const NOUN = ['saw', 'wood', 'tree', 'log'];
const TAGS = ['PRON', 'VERB', 'DET', 'NOUN'];
const PAD = '<pad>';
const VOCAB = [PAD, ...new Set([...PRON, ...DET, ...VERB, ...NOUN])];
const T = 5; // longest sentence
const D = 16;

type Sentence = { words: string[]; tags: string[] };

function sentence(g: Generator): Sentence {
  const pick = (xs: string[]) => xs[g.int(0, xs.length)]!;
  // "I saw a saw" or "the saw cut a log": "saw" is a VERB or a NOUN depending on its neighbours
  return g.uniform() < 0.5
    ? { words: [pick(PRON), pick(VERB), pick(DET), pick(NOUN)], tags: ['PRON', 'VERB', 'DET', 'NOUN'] }
    : { words: [pick(DET), pick(NOUN), pick(VERB), pick(DET), pick(NOUN)], tags: ['DET', 'NOUN', 'VERB', 'DET', 'NOUN'] };
}

function batch(sentences: Sentence[]): { ids: Tensor; labels: Tensor; pad: Tensor } {
  const ids = new Int32Array(sentences.length * T);
  const labels = new Int32Array(sentences.length * T).fill(-100); // -100: ignored by the loss
  const pad = new Int32Array(sentences.length * T).fill(1);
  sentences.forEach((s, i) => s.words.forEach((w, t) => {
    ids[i * T + t] = VOCAB.indexOf(w);
    labels[i * T + t] = TAGS.indexOf(s.tags[t]!);
    pad[i * T + t] = 0;
  }));
  const shape = [sentences.length, T];
  return { ids: q.tensor(ids, { shape }), labels: q.tensor(labels, { shape }), pad: q.tensor(pad, { shape }) };
}

/** Sinusoidal positional encoding e^i of "Attention is all you need", shape (T, D). */
function positions(): Tensor {
  const e = new Float32Array(T * D);
  for (let i = 0; i < T; i++) for (let j = 0; j < D; j += 2) {
    const angle = i / 10000 ** (j / D);
    e[i * D + j] = Math.sin(angle);
    e[i * D + j + 1] = Math.cos(angle);
  }
  return q.tensor(e, { shape: [T, D] });
}

function param(g: Generator, shape: number[], std: number): Tensor {
  return q.randn(shape, { generator: g, std, requiresGrad: true });
}

interface Model {
  params: Record<string, Tensor>;
  /** logits (B, T, tags), and the attention weights alphaPrime (B, T, T) when it has them. */
  forward(ids: Tensor, pad: Tensor): { logits: Tensor; alphaPrime?: Tensor };
}

function fullyConnected(g: Generator): Model {
  const params = { emb: param(g, [VOCAB.length, D], 1), W1: param(g, [32, D], 0.25), b1: q.zeros([32], { requiresGrad: true }), W2: param(g, [TAGS.length, 32], 0.2), b2: q.zeros([TAGS.length], { requiresGrad: true }) };
  return {
    params,
    forward: (ids) => {
      const a = q.embedding(ids, params.emb); // (B, T, D): each word on its own
      return { logits: q.linear(q.relu(q.linear(a, params.W1, params.b1)), params.W2, params.b2) };
    },
  };
}

function selfAttention(g: Generator): Model {
  const s = 1 / Math.sqrt(D);
  const params = {
    emb: param(g, [VOCAB.length, D], 1), Wq: param(g, [D, D], s), Wk: param(g, [D, D], s), Wv: param(g, [D, D], s),
    gamma: q.ones([D], { requiresGrad: true }), beta: q.zeros([D], { requiresGrad: true }),
    W1: param(g, [32, D], 0.25), b1: q.zeros([32], { requiresGrad: true }), W2: param(g, [TAGS.length, 32], 0.2), b2: q.zeros([TAGS.length], { requiresGrad: true }),
  };
  const e = q.keep(positions());
  return {
    params,
    forward: (ids, pad) => {
      const a = q.add(q.embedding(ids, params.emb), e); // a^i = word vector + e^i, (B, T, D)
      const qv = q.matmul(a, params.Wq); // q^i = W^q a^i
      const k = q.matmul(a, params.Wk); // k^i = W^k a^i
      const v = q.matmul(a, params.Wv); // v^i = W^v a^i
      const alpha = q.div(q.matmul(qv, q.transpose(k)), Math.sqrt(D)); // alpha_{i,j} = q^i . k^j / sqrt(d), (B, T, T)
      const masked = q.maskedFill(alpha, q.unsqueeze(pad, 1), -1e9); // padding is never attended to
      const alphaPrime = q.softmax(masked, -1); // normalise over j
      const b = q.matmul(alphaPrime, v); // b^i = sum_j alpha'_{i,j} v^j, (B, T, D)
      const h = q.layerNorm(q.add(a, b), [D], params.gamma, params.beta); // residual + layer norm
      return { logits: q.linear(q.relu(q.linear(h, params.W1, params.b1)), params.W2, params.b2), alphaPrime };
    },
  };
}

function train(model: Model, data: Sentence[], steps: number, g: Generator): number {
  const opt = new q.Adam(Object.values(model.params), { lr: 0.01 });
  let loss = NaN;
  for (let step = 0; step < steps; step++) {
    loss = q.tidy(() => {
      const picked = Array.from({ length: 32 }, () => data[g.int(0, data.length)]!);
      const { ids, labels, pad } = batch(picked);
      const l = q.crossEntropy(model.forward(ids, pad).logits, labels);
      opt.zeroGrad();
      l.backward();
      opt.step();
      return l.item();
    });
  }
  opt.zeroGrad();
  opt.dispose();
  return loss;
}

function accuracy(model: Model, data: Sentence[]): { all: number; saw: number } {
  return q.tidy(() => q.noGrad(() => {
    const { ids, labels, pad } = batch(data);
    const pred = q.argmax(model.forward(ids, pad).logits, -1).toTypedArray();
    const gold = labels.toTypedArray();
    const idv = ids.toTypedArray();
    const sawId = VOCAB.indexOf('saw');
    let [right, total, sawRight, sawTotal] = [0, 0, 0, 0];
    for (let i = 0; i < gold.length; i++) {
      if (gold[i] === -100) continue;
      total++;
      if (pred[i] === gold[i]) right++;
      if (idv[i] === sawId) {
        sawTotal++;
        if (pred[i] === gold[i]) sawRight++;
      }
    }
    return { all: right / total, saw: sawRight / sawTotal };
  }));
}

function heatmap(model: Model, words: string[]): string {
  return q.tidy(() => q.noGrad(() => {
    const { ids, pad } = batch([{ words, tags: words.map(() => 'NOUN') }]);
    const w = model.forward(ids, pad).alphaPrime!.toArray() as number[][][];
    const shades = ' ░▒▓█';
    const width = Math.max(...words.map((x) => x.length)) + 1;
    const lines = [' '.repeat(width) + words.map((x) => x.padEnd(9)).join('')];
    words.forEach((x, i) => {
      lines.push(x.padEnd(width) + words.map((_, j) => {
        const a = w[0]![i]![j]!;
        return `${shades[Math.min(4, Math.floor(a * 5))]!.repeat(3)} ${a.toFixed(2)}`.padEnd(9);
      }).join(''));
    });
    return lines.join('\n');
  }));
}

export function demo(options: { steps: number; seed: number }): void {
  const start = performance.now();
  const g = new Generator(options.seed);
  const train_ = Array.from({ length: 400 }, () => sentence(g));
  const test_ = Array.from({ length: 200 }, () => sentence(g));
  console.log(`qkv ${q.version} — tensor engine demo on the lecture's "I saw a saw" (backend: ${q.getBackend().name})`);
  console.log(`${train_.length} training sentences, ${test_.length} test sentences; "saw" is a VERB or a NOUN by context\n`);
  const results: [string, Model][] = [['fully-connected (one word at a time)', fullyConnected(g)], ['self-attention (the whole sentence)', selfAttention(g)]];
  for (const [name, model] of results) {
    const t0 = performance.now();
    const loss = train(model, train_, options.steps, g);
    const acc = accuracy(model, test_);
    console.log(`${name.padEnd(38)} loss ${loss.toFixed(3)}  accuracy ${(100 * acc.all).toFixed(1)}%  on "saw" ${(100 * acc.saw).toFixed(1)}%  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  console.log('\nattention weights alpha\' of the self-attention tagger (row: query word, column: key word):\n');
  console.log(heatmap(results[1]![1], ['I', 'saw', 'a', 'saw']));
  const m = q.memory();
  console.log(`\nlive after training: ${m.tensors} tensors, ${(m.bytes / 1024).toFixed(1)} KiB (the parameters); peak ${(m.peakBytes / 1024).toFixed(1)} KiB; ${((performance.now() - start) / 1000).toFixed(1)} s in all`);
}
