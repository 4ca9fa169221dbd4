// One model training in the tab: qkv's own task drivers (tag, seq2seq) build the model and its
// batches from the task's examples, AdamW steps it, and everything the page shows is read back
// with the async reads (`await t.data()`), so the same code runs on WebAssembly and on WebGPU.
import {
  AdamW, Generator, argmax, keep, noGrad, seq2seqBatch, seq2seqDriver, seq2seqLogits, serializeSafetensors, tagDriver, tidy,
  type Seq2SeqInstance, type TagModel, type Tensor, type TrainingTask, type WatchRecord, data, nn,
} from '../../src/browser.js';
import { checkSettings, modelConfig, attentionOf, type PlaySettings } from './settings.js';
import type { PlayData, PlayTask } from './tasks.js';

/** What `qkv viz --model` and loadModel recognise as a checkpoint's config.json (CHECKPOINT_FORMAT in src/run/session.ts). */
const CHECKPOINT_FORMAT = 'qkv-checkpoint';
const BATCH = 16;

/** α′ of every layer and head for one probe: alphaPrime[layer][head][i][j] (null: the kind forms none). */
export interface ProbeAttention {
  /** The queries (rows). */
  tokens: string[];
  /** The keys (columns), when they are not the queries (cross-attention). */
  keys?: string[];
  /** blocked[i][j]: key j is masked for query i (window, graph edges). */
  blocked: boolean[][];
  alphaPrime: (number[][] | null)[][];
  /** seq2seq: the cross-attention, the decoder's queries (<bos> and the target, fed in) over the encoder's output. */
  cross?: ProbeAttention;
}

export class ProbeError extends Error {
  override name = 'ProbeError';
}

type Instance = TagModel | Seq2SeqInstance;

export class PlayRun {
  step = 0;
  readonly losses: { step: number; loss: number }[] = [];
  accuracy: number | null = null;
  /** The ambiguity task: accuracy on the words seen with both tags (saw, can, fly, ...), where context decides. */
  ambiguousAccuracy: number | null = null;
  /** α′ of the probe at each evaluation (saved as attention.jsonl: `qkv viz` plays it back). */
  readonly watch: WatchRecord[] = [];
  private readonly optimizer: AdamW;
  private readonly training: TrainingTask<unknown>;
  private readonly devBatch: unknown;
  private readonly g: Generator;
  private readonly known: Set<string>;

  private constructor(readonly task: PlayTask, readonly settings: PlaySettings, readonly data: PlayData, readonly instance: Instance, seed: number) {
    const options = { batchSize: BATCH, wordDropout: 0 };
    const driver = (task.task === 'tag' ? tagDriver : seq2seqDriver) as unknown as typeof tagDriver;
    this.training = driver.training(instance as TagModel, data.train as data.TaggedExample[], data.dev as data.TaggedExample[], options) as TrainingTask<unknown>;
    // the held-out examples as one batch (with their labels), for the accuracy
    const dev = driver.training(instance as TagModel, data.dev as data.TaggedExample[], [], options) as TrainingTask<unknown>;
    this.devBatch = keepBatch(dev.batchOf!(data.dev.map((_, i) => i), new Generator(0)));
    this.optimizer = new AdamW(instance.model.parameters(), { lr: settings.lr, weightDecay: 0 });
    this.g = new Generator(seed); // both models of a comparison draw the same batches
    this.known = new Set((data.train as (data.TaggedExample | data.PairExample)[]).flatMap((e) => ('source' in e ? e.source : e.tokens ?? [])));
  }

  /** A fresh model (weights from `seed`); a SettingsError or the library's QkvError says why not. */
  static create(task: PlayTask, settings: PlaySettings, d: PlayData, seed: number): PlayRun {
    checkSettings(settings, task.task);
    const generator = new Generator(seed);
    const instance = task.task === 'tag'
      ? tagDriver.create(d.train as data.TaggedExample[], { model: modelConfig(settings), generator })
      : seq2seqDriver.create(d.train as data.PairExample[], {
        model: { dModel: settings.width, heads: settings.heads, layers: settings.layers, dropout: 0, attention: attentionOf(settings), pos: settings.pos }, generator,
      });
    return new PlayRun(task, settings, d, instance, seed);
  }

  /** One optimizer step on a batch of 16; returns its loss. */
  async trainStep(): Promise<number> {
    this.instance.model.train();
    const loss = tidy(() => {
      const l = this.training.loss(this.training.nextBatch(this.g));
      l.backward();
      return l.detach();
    });
    const value = (await loss.data())[0]!;
    loss.dispose();
    if (!Number.isFinite(value)) {
      this.optimizer.zeroGrad();
      throw new Error(`the loss is ${value} at step ${this.step + 1}: lower the learning rate and reset`);
    }
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.step++;
    this.losses.push({ step: this.step, loss: value });
    return value;
  }

  /** Accuracy on the held-out examples: tags right (tag), or target tokens right with the target fed in (seq2seq). */
  async evaluate(): Promise<number> {
    this.instance.model.eval();
    const { pred, gold } = tidy(() => noGrad(() => {
      const b = this.devBatch as { input: never; labels: Tensor };
      const logits = this.task.task === 'tag' ? (this.instance as TagModel).model.forward(b.input) : seq2seqLogits(this.instance as Seq2SeqInstance, b as never);
      return { pred: keep(argmax(logits, -1)), gold: b.labels };
    }));
    const [p, y] = [await pred.data(), await gold.data()];
    const T = gold.shape[1]!;
    pred.dispose();
    let right = 0;
    let all = 0;
    y.forEach((label, i) => {
      if (label === -100) return; // padding
      all++;
      if (p[i] === label) right++;
    });
    this.accuracy = all ? right / all : 0;
    if (this.task.name === 'ambiguity') {
      const ambiguous = new Set((this.instance as TagModel).config.ambiguous);
      let r = 0;
      let n = 0;
      (this.data.dev as data.TaggedExample[]).forEach((e, b) => e.tokens!.forEach((w, t) => {
        if (!ambiguous.has(w)) return;
        n++;
        if (p[b * T + t] === y[b * T + t]) r++;
      }));
      this.ambiguousAccuracy = n ? r / n : null;
    }
    return this.accuracy;
  }

  /** The metrics as a checkpoint's config.json holds them (qkv's names). */
  metrics(): Record<string, number> {
    return {
      ...(this.accuracy === null ? {} : { accuracy: this.accuracy }),
      ...(this.ambiguousAccuracy === null ? {} : { ambiguousAccuracy: this.ambiguousAccuracy }),
    };
  }

  /** The probe as the model reads it; a ProbeError says what is wrong with it. */
  probeInput(text: string): data.TaggedExample | data.PairExample {
    if (this.task.probe === 'example') {
      const i = Number(text.trim());
      if (!text.trim() || !Number.isInteger(i) || i < 0 || i >= this.data.dev.length) throw new ProbeError(`give the number of a held-out graph, 0 to ${this.data.dev.length - 1}`);
      return this.data.dev[i]!;
    }
    const words = this.task.task === 'seq2seq' ? [...text.replace(/\s+/g, '')] : text.trim().split(/\s+/).filter(Boolean);
    if (!words.length) throw new ProbeError(`the probe is empty: type ${this.task.task === 'seq2seq' ? 'some letters' : 'a sentence'}, e.g. "${this.task.example}"`);
    if (words.length > 40) throw new ProbeError(`the probe has ${words.length} positions; at most 40 here`);
    const unknown = [...new Set(words.filter((w) => !this.known.has(w)))];
    if (unknown.length) {
      const sample = [...this.known].slice(0, 12).join(' ');
      throw new ProbeError(`unknown ${unknown.length === 1 ? 'word' : 'words'} ${unknown.slice(0, 5).map((w) => `"${w.slice(0, 20)}"`).join(', ')}: the model knows only the words of its training data (${sample} ...)`);
    }
    return this.task.task === 'seq2seq' ? { source: words, target: [...words].reverse() } as data.PairExample : { tokens: words, labels: words.map(() => '') } as data.TaggedExample;
  }

  /** α′ of every layer and head for the probe (the encoder's self-attention); null for a model without attention. */
  async attention(probe: data.TaggedExample | data.PairExample): Promise<ProbeAttention | null> {
    if (this.settings.model !== 'transformer') return null;
    this.instance.model.eval();
    let tokens: string[];
    let blocked: boolean[][];
    const maps: Tensor[] = [];
    const crossMaps: Tensor[] = [];
    let rows: string[] = [];
    if (this.task.task === 'tag') {
      const m = this.instance as TagModel;
      const e = probe as data.TaggedExample;
      const n = (e.tokens ?? e.frames!).length;
      tokens = e.tokens ?? Array.from({ length: n }, (_, i) => `${i + 1}`); // graph nodes by position, 1..n as the lecture numbers a¹…aᴺ
      const w = this.settings.window;
      blocked = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (w > 0 && Math.abs(i - j) > w)));
      if (e.edges) {
        const edge = new Set(e.edges.flatMap(([a, b]) => [`${a},${b}`, `${b},${a}`]));
        blocked = blocked.map((row, i) => row.map((x, j) => x || (i !== j && !edge.has(`${i},${j}`))));
      }
      tidy(() => noGrad(() => {
        const b = m.featurizer.batch([e]);
        const enc = m.model.encoder as nn.AttentionEncoder;
        const { weights } = enc.inspect(m.model.embed.forward(b), { keyPaddingMask: b.keyPaddingMask, attnMask: b.attnMask ?? null });
        maps.push(...weights.map((x) => keep(x)));
      }));
    } else {
      const m = this.instance as Seq2SeqInstance;
      const e = probe as data.PairExample;
      tokens = e.source;
      blocked = tokens.map(() => tokens.map(() => false));
      rows = ['<bos>', ...e.target];
      tidy(() => noGrad(() => {
        const b = seq2seqBatch(m, [e]);
        const memory = m.model.encode(b.src, b.srcPad, (_layer, i) => { if (i.alphaPrime) maps.push(keep(i.alphaPrime)); });
        // the target teacher-forced: row i is the decoder reading <bos> y1..yi (as qkv viz shows it)
        m.model.decode(b.tgtIn, memory, { srcPad: b.srcPad, tgtPad: b.tgtPad, onAttention: (_layer, what, i) => { if (what === 'cross' && i.alphaPrime) crossMaps.push(keep(i.alphaPrime)); } });
      }));
    }
    const alphaPrime = await this.read(maps, tokens.length, tokens.length);
    if (this.task.task === 'tag') return { tokens, blocked, alphaPrime };
    const cross = { tokens: rows, keys: tokens, blocked: rows.map(() => tokens.map(() => false)), alphaPrime: await this.read(crossMaps, rows.length, tokens.length) };
    return { tokens, blocked, alphaPrime, cross };
  }

  /** Each layer's (1, H, L, S) α′ as [layer][head][i][j] (null: a kind that forms none), the tensors freed. */
  private async read(maps: Tensor[], L: number, S: number): Promise<(number[][] | null)[][]> {
    const out: (number[][] | null)[][] = [];
    const heads = this.settings.heads;
    for (let l = 0; l < this.settings.layers; l++) {
      const w = maps[l];
      if (!w) {
        out.push(Array.from({ length: heads }, () => null)); // linear attention forms no α′
        continue;
      }
      const values = await w.data();
      out.push(Array.from({ length: heads }, (_, h) => Array.from({ length: L }, (_, i) => Array.from(values.subarray((h * L + i) * S, (h * L + i + 1) * S)))));
    }
    for (const w of maps) w.dispose();
    return out;
  }

  /** Keeps this evaluation's α′ of the probe for attention.jsonl. */
  record(a: ProbeAttention | null): void {
    if (!a || a.alphaPrime.every((l) => l.every((h) => h === null))) return;
    if (this.watch[this.watch.length - 1]?.step === this.step) this.watch.pop(); // one record per step: the latest
    const c = a.cross;
    this.watch.push({
      step: this.step, metrics: this.metrics(), tokens: a.tokens, blocked: a.blocked, alphaPrime: a.alphaPrime,
      ...(c ? { part: 'encoder self-attention', parts: [{ name: 'cross-attention', tokens: c.tokens, keys: c.keys!, blocked: c.blocked, alphaPrime: c.alphaPrime }], target: 'teacher-forced' as const } : {}),
    });
  }

  /** The checkpoint directory's files, as `qkv train` writes them (config.json, model.safetensors, COMPLETE) and attention.jsonl. */
  async checkpointFiles(): Promise<Record<string, Uint8Array | string>> {
    // a WebGPU model's weights are read back to the host first
    const own = this.instance.model.stateDict();
    const state = new Map<string, Tensor>();
    for (const [name, t] of own) state.set(name, await t.toAsync('wasm').catch(() => t));
    const weights = serializeSafetensors(state, { format: 'pt' });
    for (const [name, t] of state) if (t !== own.get(name)) t.dispose();
    const config = {
      format: CHECKPOINT_FORMAT, ...this.instance.config,
      meta: { builtin: this.task.builtin, source: 'qkv playground', settings: this.settings },
      step: this.step, metrics: this.metrics(),
    };
    const files: Record<string, Uint8Array | string> = {
      'config.json': JSON.stringify(config, null, 2) + '\n',
      'model.safetensors': weights,
      COMPLETE: '',
    };
    if (this.watch.length) files['attention.jsonl'] = this.watch.map((r) => JSON.stringify(r)).join('\n') + '\n';
    return files;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.instance.model.dispose();
    for (const t of Object.values(this.devBatch as Record<string, unknown>)) disposeDeep(t);
  }
}

/** Keeps a batch's tensors past the scope that made them. */
function keepBatch<B>(b: B): B {
  const walk = (x: unknown): void => {
    if (!x || typeof x !== 'object') return;
    if ('dispose' in x && 'shape' in x) { keep(x as Tensor); return; }
    for (const v of Object.values(x)) walk(v);
  };
  walk(b);
  return b;
}

function disposeDeep(x: unknown): void {
  if (!x || typeof x !== 'object') return;
  if ('dispose' in x && 'shape' in x) { (x as Tensor).dispose(); return; }
  for (const v of Object.values(x)) disposeDeep(v);
}
