// BERT fine-tuning batches: tag data as a label per word on its first WordPiece (the other pieces
// and [CLS]/[SEP] ignored, as transformers' token-classification recipe), classify data as a label
// per text; the dev metric is accuracy. fitHead: a new classifier when the labels are not the model's.
import type { Generator } from '../../core/rng.js';
import type { ClassifiedExample, TaggedExample } from '../../data/types.js';
import type { WordPieceTokenizer } from '../../data/tokenizers/wordpiece.js';
import { tensor } from '../../ops/creation.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EvalResult, TrainingTask } from '../../train/trainer.js';
import { PretrainedError, type BertForSequenceClassification, type BertForTokenClassification, type ViTForImageClassification } from '../../nn/models/hf/index.js';
import type { Pretrained } from '../pretrained.js';
import type { FinetuneOptions } from './options.js';

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
export function fitHead(model: BertForTokenClassification | BertForSequenceClassification | ViTForImageClassification, labels: Set<string>, note?: (l: string) => void): string[] | null {
  const have = new Set(model.config.labels);
  if ([...labels].every((l) => have.has(l))) return null;
  const fresh = [...labels].sort();
  note?.(`the data's labels (${fresh.join(', ')}) are not the model's (${model.config.labels.join(', ')}): a new classifier head with ${fresh.length} labels is trained`);
  return fresh;
}

export function bertTask(p: Pretrained, o: FinetuneOptions, train: readonly unknown[], dev: readonly unknown[]): TrainingTask<BertBatch> {
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
