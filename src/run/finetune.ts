// Fine-tuning a Hugging Face directory on a qkv task (Node): BertForTokenClassification on tag
// data (a label per word, on its first WordPiece; the other pieces are ignored, as transformers'
// token-classification recipe), BertForSequenceClassification on classify data, GPT2LMHeadModel
// on a text (random windows, next-token loss), WhisperForConditionalGeneration on speech and its
// transcripts (teacher forcing from the forced decoder prefix). A new classifier is made when the data's labels
// are not the model's. Full fine-tuning writes the save_pretrained layout into `out`
// (config.json, model.safetensors, tokenizer.json); LoRA writes PEFT's adapter
// (adapter_config.json, adapter_model.safetensors; a new classifier as modules_to_save) next to
// config.json and tokenizer.json. The best model by the dev metric is what is kept; `out/last`
// holds a resumable checkpoint (model, optimizer and loop state), so `resume` continues exactly.
import { join, resolve } from 'node:path';
import type { Generator } from '../core/rng.js';
import type { ClassifiedExample, TaggedExample } from '../data/types.js';
import type { BpeTokenizer } from '../data/tokenizers/tokenizer.js';
import { WordPieceTokenizer } from '../data/tokenizers/wordpiece.js';
import { tensor } from '../ops/creation.js';
import { tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { Trainer, type Checkpointer, type EvalResult, type TrainEvent, type TrainerOptions, type TrainingTask } from '../train/trainer.js';
import { CheckpointError, isCheckpoint, readCheckpoint, saveCheckpoint, type CheckpointRead } from '../train/checkpoint.js';
import { trainerState } from './session.js';
import { BertForSequenceClassification, BertForTokenClassification, GPT2LMHeadModel, PretrainedError, ViTForImageClassification, WhisperForConditionalGeneration, type HfModel } from '../nn/models/hf/index.js';
import { whisperLogMel } from '../data/audio/whisper-features.js';
import { whisperPrompt } from './hf-use.js';
import { addLora, freezeForLora, type LoraConfig } from '../nn/models/hf/lora.js';
import { fromPretrained, saveAdapter, savePretrained, type Pretrained } from './pretrained.js';

export type FinetuneTask = 'tag' | 'classify' | 'seq2seq' | 'lm';

/** seq2seq (Whisper): mono samples at the feature extractor's rate and their transcript. */
export interface SpeechExample {
  audio: Float32Array;
  text: string;
  /** Where it came from (for errors). */
  source?: string;
}

export interface FinetuneOptions {
  /** A save_pretrained directory. */
  from: string;
  task: FinetuneTask;
  /** Examples (tag: TaggedExample, classify: ClassifiedExample, seq2seq: SpeechExample), or the text (lm). */
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
  /** Continue the run in `out` from `out/last` (same batches, dropout masks and optimizer state). */
  resume?: boolean;
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

const ARCH: Record<FinetuneTask, string[]> = {
  tag: ['BertForTokenClassification'], classify: ['BertForSequenceClassification', 'ViTForImageClassification'], seq2seq: ['WhisperForConditionalGeneration'], lm: ['GPT2LMHeadModel'],
};

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

/** The labels of a new head (said through `note`) when the model does not have all the data's labels, else null. */
function fitHead(model: BertForTokenClassification | BertForSequenceClassification | ViTForImageClassification, labels: Set<string>, note?: (l: string) => void): string[] | null {
  const have = new Set(model.config.labels);
  if ([...labels].every((l) => have.has(l))) return null;
  const fresh = [...labels].sort();
  note?.(`the data's labels (${fresh.join(', ')}) are not the model's (${model.config.labels.join(', ')}): a new classifier head with ${fresh.length} labels is trained`);
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

interface SpeechBatch { features: Tensor; ids: Tensor; labels: Tensor; n: number }

/**
 * Whisper on speech and transcripts: Whisper's log-mel front end on each example (once), the
 * decoder teacher-forced from the forced prefix (decoder_start_token_id + forced_decoder_ids):
 * input [prefix, text], targets [-100 for the forced tokens, text, eos]; the dev metric is the loss.
 */
function whisperTask(p: Pretrained, o: FinetuneOptions, train: readonly unknown[], dev: readonly unknown[]): TrainingTask<SpeechBatch> {
  const model = p.model as WhisperForConditionalGeneration;
  const c = model.config;
  if (!p.featureExtractor) throw new PretrainedError(p.dir, 'has no preprocessor_config.json of a WhisperFeatureExtractor (how audio becomes log-mel features)');
  if (c.eosTokenId === null) throw new PretrainedError(`${p.dir}/config.json`, 'fine-tuning Whisper needs "eos_token_id" (where a transcript ends)');
  const tok = p.tokenizer as BpeTokenizer;
  const prefix = whisperPrompt(p);
  const encode = (e: unknown) => {
    const x = e as SpeechExample;
    if (!(x.audio instanceof Float32Array) || typeof x.text !== 'string') throw new PretrainedError('data', 'Whisper fine-tuning needs speech examples (a WAV path<TAB>transcript per line)');
    const { data, frames } = whisperLogMel(x.audio, p.featureExtractor!);
    if (frames !== 2 * c.maxSourcePositions) throw new PretrainedError(p.dir, `the feature extractor gives ${frames} frames, the encoder reads ${2 * c.maxSourcePositions}`);
    const text = Array.from(tok.encode(x.text));
    const ids = [...prefix, ...text];
    if (ids.length > c.maxTargetPositions) throw new PretrainedError(x.source ?? 'data', `the transcript is ${text.length} tokens; with the ${prefix.length} forced ones that is more than max_target_positions ${c.maxTargetPositions}`);
    return { features: data, ids, labels: [...prefix.slice(1).map(() => -100), ...text, c.eosTokenId!] };
  };
  const encTrain = train.map(encode);
  const encDev = dev.map(encode);
  const batchSize = o.batchSize ?? 8;
  const batch = (rows: ReturnType<typeof encode>[]): SpeechBatch => {
    const T = Math.max(...rows.map((r) => r.ids.length));
    const F = rows[0]!.features.length;
    const features = new Float32Array(rows.length * F);
    rows.forEach((r, i) => features.set(r.features, i * F));
    const pad = (xs: number[], v: number) => [...xs, ...new Array<number>(T - xs.length).fill(v)];
    return {
      features: tensor(features, { shape: [rows.length, c.numMelBins, F / c.numMelBins] }),
      ids: tensor(rows.map((r) => pad(r.ids, c.padTokenId)), { dtype: 'int32' }),
      labels: tensor(rows.map((r) => pad(r.labels, -100)), { dtype: 'int32' }),
      n: rows.reduce((s, r) => s + r.ids.length, 0),
    };
  };
  const forward = (b: SpeechBatch) => model.forward({ inputFeatures: b.features, decoderInputIds: b.ids, labels: b.labels });
  return {
    examples: encTrain.length,
    batchSize,
    nextBatch: (g) => batch(Array.from({ length: batchSize }, () => encTrain[Math.floor(g.uniform() * encTrain.length)]!)),
    batchOf: (indices) => batch(indices.map((i) => encTrain[i]!)),
    loss: (b) => forward(b).loss!,
    size: (b) => b.n,
    evaluate: (): EvalResult => {
      let total = 0;
      let right = 0;
      let count = 0;
      for (let s = 0; s < encDev.length; s += batchSize) {
        tidy(() => {
          const b = batch(encDev.slice(s, s + batchSize));
          const out = forward(b);
          const pred = out.logits.argmax(-1).toTypedArray();
          const gold = b.labels.toTypedArray();
          let n = 0;
          for (let i = 0; i < gold.length; i++) {
            if (gold[i]! < 0) continue;
            n++;
            if (pred[i] === gold[i]) right++;
          }
          total += out.loss!.item() * n;
          count += n;
        });
      }
      const loss = count ? total / count : 0;
      return { metrics: { loss, tokenAccuracy: count ? right / count : 0 }, main: 'loss', higherIsBetter: false };
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

/** What `out/last/config.json` records of a fine-tuning run: enough to rebuild the model it trains. */
const FINETUNE_FORMAT = 'qkv-hf-finetune-1';

/** The run's own model: the directory's, with the new head and the adapters the run added. */
function prepareModel(p: Pretrained, o: FinetuneOptions, newHead: string[] | null): string[] {
  if (newHead) (p.model as BertForTokenClassification | ViTForImageClassification).replaceHead(newHead);
  if (!o.lora) return [];
  const adapted = addLora(p.model, o.lora);
  freezeForLora(p.model, newHead ? ['classifier'] : []);
  return adapted;
}

/** The labels of a labelling task's data when the model does not have them all (a new head), else null. */
function headFor(p: Pretrained, o: FinetuneOptions): string[] | null {
  if (o.task === 'lm' || o.task === 'seq2seq') return null;
  const labels = new Set<string>();
  for (const e of [...(o.train as unknown[]), ...(o.dev as unknown[])]) {
    if (o.task === 'tag') for (const l of (e as TaggedExample).labels) labels.add(l);
    else labels.add((e as ClassifiedExample).label);
  }
  return fitHead(p.model as BertForTokenClassification | ViTForImageClassification, labels, o.note);
}

/** `out/last` of an earlier run of the same fine-tuning, checked against this one's options. */
function readLast(o: FinetuneOptions): CheckpointRead {
  const lastDir = join(o.out, 'last');
  if (!isCheckpoint(lastDir)) throw new CheckpointError(`--resume: ${lastDir} holds no checkpoint to resume from`);
  const ck = readCheckpoint(lastDir);
  const c = ck.config;
  const fail = (m: string) => {
    for (const t of ck.tensors.values()) t.dispose();
    if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
    throw new CheckpointError(`--resume: ${join(lastDir, 'config.json')}: ${m}`);
  };
  if (c.format !== FINETUNE_FORMAT) fail(`is not a fine-tuning run of a Hugging Face directory (format ${JSON.stringify(c.format ?? null)})`);
  if (c.task !== o.task) fail(`is a ${String(c.task)} run, not ${o.task}`);
  if (c.from !== resolve(o.from)) fail(`fine-tunes ${String(c.from)}, not --from ${resolve(o.from)}`);
  if (JSON.stringify(c.lora ?? null) !== JSON.stringify(o.lora ?? null)) fail(`was run with LoRA ${JSON.stringify(c.lora ?? null)}, not ${JSON.stringify(o.lora ?? null)}`);
  if (!ck.optimizer || !ck.trainer) fail('has no optimizer or trainer state');
  return ck;
}

/** Fine-tunes a save_pretrained directory on a task's data, fully or with LoRA; see the file comment. */
export async function finetunePretrained(o: FinetuneOptions): Promise<FinetuneResult> {
  const p = fromPretrained(o.from);
  const model = p.model;
  let ck: CheckpointRead | null = null;
  try {
    if (!ARCH[o.task].includes(p.architecture)) {
      throw new PretrainedError(`${o.from}/config.json`, `is a ${p.architecture}; qkv train ${o.task} --from needs a ${ARCH[o.task].join(' or a ')}`);
    }
    const vit = p.model instanceof ViTForImageClassification;
    if (vit && !p.imageProcessor) throw new PretrainedError(o.from, 'has no preprocessor_config.json (how images become pixel values)');
    if (!vit && !p.tokenizer) throw new PretrainedError(o.from, 'has no tokenizer.json (qkv reads the text through the model\'s own tokenizer)');
    let newHead: string[] | null;
    if (o.resume) {
      ck = readLast(o);
      newHead = (ck.config.newHead as string[] | null) ?? null;
    } else newHead = headFor(p, o);
    const adapted = prepareModel(p, o, newHead);
    if (o.lora) o.note?.(`LoRA r=${o.lora.r} alpha=${o.lora.alpha} on ${adapted.length} modules (${[...new Set(adapted.map((a) => a.split('.').pop()))].join(', ')})${newHead ? ' and the new classifier' : ''}; the rest is frozen`);
    if (ck) {
      try {
        model.loadStateDict(ck.tensors);
      } catch (e) {
        throw new CheckpointError(`--resume: ${join(o.out, 'last', 'model.safetensors')}: does not fit the model (${(e as Error).message})`);
      }
    }
    const task = o.task === 'lm' ? lmTask(p, o, o.train as string, o.dev as string)
      : o.task === 'seq2seq' ? whisperTask(p, o, o.train as unknown[], o.dev as unknown[])
        : vit ? vitTask(p, o, o.train as unknown[], o.dev as unknown[]) : bertTask(p, o, o.train as unknown[], o.dev as unknown[]);
    const checkpointer: Checkpointer = {
      save: (kind, s) => {
        if (kind === 'best') {
          model.eval();
          savePretrainedRun(o.out, p, o.lora ?? null, newHead);
          model.train();
          return;
        }
        // everything the run changes, to continue it exactly (the base weights of a LoRA run too: one file, checked on load)
        saveCheckpoint(join(o.out, 'last'), {
          config: { format: FINETUNE_FORMAT, task: o.task, from: resolve(o.from), lora: o.lora ?? null, newHead, step: s.trainer.step, metrics: s.metrics },
          model: s.model, optimizer: s.optimizer, trainer: { state: s.trainer },
        });
      },
    };
    const trainer = new Trainer(model, task as TrainingTask<unknown>, o.trainer, checkpointer);
    if (ck) {
      try {
        trainer.optimizer.importState(ck.optimizer!);
      } catch (e) {
        throw new CheckpointError(`--resume: ${join(o.out, 'last', 'optimizer.safetensors')}: does not fit the model (${(e as Error).message})`);
      }
      trainer.restore(trainerState(ck));
    }
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
    if (ck) {
      for (const t of ck.tensors.values()) t.dispose();
      if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
    }
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
