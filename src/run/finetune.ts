// Fine-tuning a Hugging Face directory on a qkv task (Node): BertForTokenClassification on tag
// data (a label per word, on its first WordPiece; the other pieces are ignored, as transformers'
// token-classification recipe), BertForSequenceClassification on classify data, GPT2LMHeadModel
// on a text (random windows, next-token loss). A new classifier is made when the data's labels
// are not the model's. Full fine-tuning writes the save_pretrained layout into `out`
// (config.json, model.safetensors, tokenizer.json); LoRA writes PEFT's adapter
// (adapter_config.json, adapter_model.safetensors; a new classifier as modules_to_save) next to
// config.json and tokenizer.json. The best model by the dev metric is what is kept.
import { resolve } from 'node:path';
import type { Generator } from '../core/rng.js';
import type { ClassifiedExample, TaggedExample } from '../data/types.js';
import type { BpeTokenizer } from '../data/tokenizers/tokenizer.js';
import { WordPieceTokenizer } from '../data/tokenizers/wordpiece.js';
import { tensor } from '../ops/creation.js';
import { tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { Trainer, type EvalResult, type TrainEvent, type TrainerOptions, type TrainingTask } from '../train/trainer.js';
import { BertForSequenceClassification, BertForTokenClassification, GPT2LMHeadModel, PretrainedError, ViTForImageClassification, type HfModel } from '../nn/models/hf/index.js';
import { addLora, freezeForLora, type LoraConfig } from '../nn/models/hf/lora.js';
import { fromPretrained, saveAdapter, savePretrained, type Pretrained } from './pretrained.js';

export type FinetuneTask = 'tag' | 'classify' | 'lm';

export interface FinetuneOptions {
  /** A save_pretrained directory. */
  from: string;
  task: FinetuneTask;
  /** Examples (tag: TaggedExample, classify: ClassifiedExample), or the text (lm). */
  train: readonly unknown[] | string;
  dev: readonly unknown[] | string;
  out: string;
  lora?: LoraConfig | null;
  trainer: TrainerOptions;
  batchSize?: number;
  /** lm: tokens per training window (default min(n_positions, 64)). */
  blockSize?: number;
  onEvent?: (e: TrainEvent) => void;
  /** Lines worth telling the user (a new head, what LoRA adapts). */
  note?: (line: string) => void;
  signal?: AbortSignal;
}

export interface FinetuneResult {
  out: string;
  steps: number;
  best: number | null;
  metrics: Record<string, number>;
  trainable: number;
  total: number;
  /** The new head's labels when the data's labels were not the model's. */
  newHead: string[] | null;
  /** Modules carrying LoRA adapters. */
  adapted: string[];
}

const ARCH: Record<FinetuneTask, string[]> = { tag: ['BertForTokenClassification'], classify: ['BertForSequenceClassification', 'ViTForImageClassification'], lm: ['GPT2LMHeadModel'] };

interface BertBatch { ids: Tensor; types: Tensor; mask: Tensor; labels: Tensor; n: number }

/** Word-level labelling as WordPiece ids: the label on each word's first piece, -100 on the rest and on [CLS]/[SEP]. */
function encodeTagged(tok: WordPieceTokenizer, words: readonly string[], labelIds: number[] | null, maxLen: number): { ids: number[]; labels: number[]; first: number[] } {
  const cls = tok.post?.single.find((p) => 'special' in p);
  const sep = tok.post?.single.slice().reverse().find((p) => 'special' in p);
  const clsId = cls && 'special' in cls ? tok.post!.specialIds[cls.special]![0]! : null;
  const sepId = sep && 'special' in sep ? tok.post!.specialIds[sep.special]![0]! : null;
  const ids: number[] = clsId === null ? [] : [clsId];
  const labels: number[] = clsId === null ? [] : [-100];
  const first: number[] = [];
  words.forEach((w, i) => {
    const pieces = tok.encodeText(w).ids;
    if (!pieces.length) pieces.push(tok.id(tok.unkToken)!); // a word the normaliser empties still gets its label
    first.push(ids.length);
    pieces.forEach((id, j) => { ids.push(id); labels.push(j === 0 && labelIds ? labelIds[i]! : -100); });
  });
  if (sepId !== null) { ids.push(sepId); labels.push(-100); }
  if (ids.length > maxLen) throw new PretrainedError('data', `a sentence of ${words.length} words is ${ids.length} WordPiece tokens, more than max_position_embeddings ${maxLen}: "${words.slice(0, 8).join(' ')} ..."`);
  return { ids, labels, first };
}

function bertBatch(rows: { ids: number[]; types?: number[]; labels: number[] | number }[]): BertBatch {
  const T = Math.max(...rows.map((r) => r.ids.length));
  const pad = (xs: number[], v: number) => [...xs, ...new Array<number>(T - xs.length).fill(v)];
  return {
    ids: tensor(rows.map((r) => pad(r.ids, 0)), { dtype: 'int32' }),
    types: tensor(rows.map((r) => pad(r.types ?? r.ids.map(() => 0), 0)), { dtype: 'int32' }),
    mask: tensor(rows.map((r) => pad(r.ids.map(() => 1), 0)), { dtype: 'int32' }),
    labels: tensor(rows.map((r) => (typeof r.labels === 'number' ? r.labels : pad(r.labels, -100))) as number[] | number[][], { dtype: 'int32' }),
    n: rows.reduce((s, r) => s + r.ids.length, 0),
  };
}

/** The labels of the data; a new head (said through `note`) when the model does not have them all. */
function fitHead(model: BertForTokenClassification | BertForSequenceClassification | ViTForImageClassification, labels: Set<string>, note?: (l: string) => void): string[] | null {
  const have = new Set(model.config.labels);
  if ([...labels].every((l) => have.has(l))) return null;
  const fresh = [...labels].sort();
  note?.(`the data's labels (${fresh.join(', ')}) are not the model's (${model.config.labels.join(', ')}): a new classifier head with ${fresh.length} labels is trained`);
  model.replaceHead(fresh);
  return fresh;
}

function bertTask(p: Pretrained, o: FinetuneOptions, train: readonly unknown[], dev: readonly unknown[]): TrainingTask<BertBatch> {
  const model = p.model as BertForTokenClassification | BertForSequenceClassification;
  const tok = p.tokenizer as WordPieceTokenizer;
  const labelId = new Map(model.config.labels.map((l, i) => [l, i]));
  const maxLen = model.config.maxPositionEmbeddings;
  const batchSize = o.batchSize ?? 16;
  const encode = (e: unknown) => {
    if (o.task === 'tag') {
      const t = e as TaggedExample;
      if (!t.tokens) throw new PretrainedError('data', 'tag examples must be words (CoNLL-U / CoNLL) to fine-tune BERT');
      return encodeTagged(tok, t.tokens, t.labels.map((l) => labelId.get(l)!), maxLen);
    }
    const c = e as ClassifiedExample;
    if (!c.tokens) throw new PretrainedError('data', 'classify examples must be text (text<TAB>label) to fine-tune BERT');
    const enc = tok.encode(c.tokens.join(' '));
    if (enc.ids.length > maxLen) throw new PretrainedError('data', `a text is ${enc.ids.length} WordPiece tokens, more than max_position_embeddings ${maxLen}`);
    return { ids: enc.ids, types: enc.typeIds, labels: labelId.get(c.label)!, first: [] as number[] };
  };
  const encTrain = train.map(encode);
  const encDev = dev.map(encode);
  const logitsOf = (b: BertBatch) => model.forward({ inputIds: b.ids, tokenTypeIds: b.types, attentionMask: b.mask, labels: b.labels });
  return {
    examples: encTrain.length,
    batchSize,
    nextBatch: (g: Generator) => bertBatch(Array.from({ length: batchSize }, () => encTrain[Math.floor(g.uniform() * encTrain.length)]!)),
    batchOf: (indices) => bertBatch(indices.map((i) => encTrain[i]!)),
    loss: (b) => logitsOf(b).loss!,
    size: (b) => b.n,
    evaluate: (): EvalResult => {
      let right = 0;
      let count = 0;
      for (let s = 0; s < encDev.length; s += batchSize) {
        tidy(() => {
          const rows = encDev.slice(s, s + batchSize);
          const b = bertBatch(rows);
          const pred = logitsOf(b).logits.argmax(-1).toTypedArray();
          const gold = b.labels.toTypedArray();
          for (let i = 0; i < gold.length; i++) {
            if (gold[i]! < 0) continue;
            count++;
            if (pred[i] === gold[i]) right++;
          }
        });
      }
      return { metrics: { accuracy: count ? right / count : 0 }, main: 'accuracy', higherIsBetter: true };
    },
  };
}

interface ImageBatch { pixels: Tensor; labels: Tensor; n: number }

/** Images (already through the model's image processor) and their labels. */
function vitTask(p: Pretrained, o: FinetuneOptions, train: readonly unknown[], dev: readonly unknown[]): TrainingTask<ImageBatch> {
  const model = p.model as ViTForImageClassification;
  const labelId = new Map(model.config.labels.map((l, i) => [l, i]));
  const batchSize = o.batchSize ?? 16;
  const batch = (rows: readonly unknown[]): ImageBatch => {
    const ex = rows as ClassifiedExample[];
    const first = ex[0]!.image;
    if (!first) throw new PretrainedError('data', 'ViT fine-tuning needs images (path<TAB>label lists or a folder per label)');
    const data = new Float32Array(ex.length * first.data.length);
    ex.forEach((e, i) => data.set(e.image!.data, i * first.data.length));
    return {
      pixels: tensor(data, { shape: [ex.length, first.channels, first.height, first.width] }),
      labels: tensor(ex.map((e) => labelId.get(e.label)!), { dtype: 'int32' }), n: ex.length,
    };
  };
  const forward = (b: ImageBatch) => model.forward({ pixelValues: b.pixels, labels: b.labels });
  return {
    examples: train.length,
    batchSize,
    nextBatch: (g) => batch(Array.from({ length: batchSize }, () => train[Math.floor(g.uniform() * train.length)])),
    batchOf: (indices) => batch(indices.map((i) => train[i])),
    loss: (b) => forward(b).loss!,
    size: (b) => b.n,
    evaluate: (): EvalResult => {
      let right = 0;
      for (let s = 0; s < dev.length; s += batchSize) {
        tidy(() => {
          const b = batch(dev.slice(s, s + batchSize));
          const pred = forward(b).logits.argmax(-1).toTypedArray();
          const gold = b.labels.toTypedArray();
          for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) right++;
        });
      }
      return { metrics: { accuracy: dev.length ? right / dev.length : 0 }, main: 'accuracy', higherIsBetter: true };
    },
  };
}

function lmTask(p: Pretrained, o: FinetuneOptions, trainText: string, devText: string): TrainingTask<{ x: Tensor; y: Tensor; n: number }> {
  const model = p.model as GPT2LMHeadModel;
  const tok = p.tokenizer as BpeTokenizer;
  const block = o.blockSize ?? Math.min(model.config.nPositions, 64);
  if (block > model.config.nPositions) throw new PretrainedError('--block-size', `${block} is more than the model's n_positions ${model.config.nPositions}`);
  const ids = Array.from(tok.encode(trainText));
  const devIds = Array.from(tok.encode(devText));
  for (const [what, xs] of [['training', ids], ['validation', devIds]] as const) {
    if (xs.length < block + 1) throw new PretrainedError('--data', `the ${what} text is ${xs.length} tokens, fewer than a window of ${block + 1}; give more text or a smaller --block-size`);
  }
  const batchSize = o.batchSize ?? 8;
  const window = (xs: number[], at: number) => [xs.slice(at, at + block), xs.slice(at + 1, at + block + 1)];
  const batch = (starts: number[], xs: number[]) => {
    const w = starts.map((s) => window(xs, s));
    return { x: tensor(w.map((p) => p[0]!), { dtype: 'int32' }), y: tensor(w.map((p) => p[1]!), { dtype: 'int32' }), n: starts.length * block };
  };
  return {
    batchSize,
    nextBatch: (g) => batch(Array.from({ length: batchSize }, () => Math.floor(g.uniform() * (ids.length - block))), ids),
    loss: (b) => model.forward(b.x, { targets: b.y }).loss!,
    size: (b) => b.n,
    evaluate: () => {
      const starts: number[] = [];
      for (let s = 0; s + block < devIds.length && starts.length < 32; s += block) starts.push(s);
      let total = 0;
      for (let i = 0; i < starts.length; i += batchSize) {
        const chunk = starts.slice(i, i + batchSize);
        total += tidy(() => {
          const b = batch(chunk, devIds);
          return model.forward(b.x, { targets: b.y }).loss!.item();
        }) * chunk.length;
      }
      const loss = total / starts.length;
      return { metrics: { loss, perplexity: Math.exp(loss) }, main: 'loss', higherIsBetter: false };
    },
  };
}

/** Fine-tunes a save_pretrained directory on a task's data, fully or with LoRA; see the file comment. */
export async function finetunePretrained(o: FinetuneOptions): Promise<FinetuneResult> {
  const p = fromPretrained(o.from);
  const model = p.model;
  try {
    if (!ARCH[o.task].includes(p.architecture)) {
      throw new PretrainedError(`${o.from}/config.json`, `is a ${p.architecture}; qkv train ${o.task} --from needs a ${ARCH[o.task].join(' or a ')}`);
    }
    const vit = p.model instanceof ViTForImageClassification;
    if (vit && !p.imageProcessor) throw new PretrainedError(o.from, 'has no preprocessor_config.json (how images become pixel values)');
    if (!vit && !p.tokenizer) throw new PretrainedError(o.from, 'has no tokenizer.json (qkv reads the text through the model\'s own tokenizer)');
    let newHead: string[] | null = null;
    if (o.task !== 'lm') {
      const labels = new Set<string>();
      for (const e of [...(o.train as unknown[]), ...(o.dev as unknown[])]) {
        if (o.task === 'tag') for (const l of (e as TaggedExample).labels) labels.add(l);
        else labels.add((e as ClassifiedExample).label);
      }
      newHead = fitHead(model as BertForTokenClassification | ViTForImageClassification, labels, o.note);
    }
    let adapted: string[] = [];
    if (o.lora) {
      adapted = addLora(model, o.lora);
      freezeForLora(model, newHead ? ['classifier'] : []);
      o.note?.(`LoRA r=${o.lora.r} alpha=${o.lora.alpha} on ${adapted.length} modules (${[...new Set(adapted.map((a) => a.split('.').pop()))].join(', ')})${newHead ? ' and the new classifier' : ''}; the rest is frozen`);
    }
    const task = o.task === 'lm'
      ? lmTask(p, o, o.train as string, o.dev as string)
      : vit ? vitTask(p, o, o.train as unknown[], o.dev as unknown[]) : bertTask(p, o, o.train as unknown[], o.dev as unknown[]);
    const save = () => {
      model.eval();
      savePretrainedRun(o.out, p, o.lora ?? null, newHead);
      model.train();
    };
    const trainer = new Trainer(model, task as TrainingTask<unknown>, o.trainer, { save: (kind) => { if (kind === 'best') save(); } });
    if (o.onEvent) trainer.on(o.onEvent);
    const last = await trainer.runAsync(o.signal);
    trainer.dispose();
    const params = model.parameters();
    return {
      out: o.out, steps: trainer.state.step, best: trainer.state.best, metrics: last?.metrics ?? {},
      trainable: params.filter((t) => t.requiresGrad).reduce((n, t) => n + t.size, 0), total: params.reduce((n, t) => n + t.size, 0),
      newHead, adapted,
    };
  } finally {
    model.dispose();
  }
}

/** What a fine-tuning run keeps: the whole model (save_pretrained), or PEFT's adapter beside the config and tokenizer. */
function savePretrainedRun(out: string, p: Pretrained, lora: LoraConfig | null, newHead: string[] | null): void {
  if (!lora) {
    savePretrained(out, p.model, { config: p.config, tokenizerFrom: p.dir });
    return;
  }
  // task_type stays null: PEFT's SEQ_CLS/TOKEN_CLS would expect a classifier in the adapter even when it was not trained
  saveAdapter(out, p.model as HfModel, lora, { baseModel: resolve(p.dir), modulesToSave: newHead ? ['classifier'] : [] });
  savePretrained(out, p.model, { config: p.config, tokenizerFrom: p.dir, configOnly: true });
}
