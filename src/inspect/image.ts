// An image model's attention (lecture: an image is a set of vectors, one per patch): the
// picture as the model reads it, the patch grid, and every layer and head of self-attention
// over the class token and the patches, with the same per-head numbers as a sentence's.
import { QkvError } from '../core/errors.js';
import type { SequenceInput } from '../data/types.js';
import { ImageClassifier } from '../nn/models/taggers.js';
import { PatchEncoder } from '../nn/vision/patch-encoder.js';
import { noGrad, tidy } from '../tensor/engine.js';
import { classifyDriver, type ClassifyInstance } from '../tasks/classify.js';
import { kindInfo, layerJSON } from './heads.js';
import type { ModelInspection } from './wire.js';

/** Position labels: the class token, then patch (row, column), both counted from 1, row by row. */
export function patchTokens(rows: number, cols: number, cls: boolean): string[] {
  const patches = Array.from({ length: rows * cols }, (_, k) => `patch ${Math.floor(k / cols) + 1},${(k % cols) + 1}`);
  return cls ? ['[CLS]', ...patches] : patches;
}

export function inspectImage(m: ClassifyInstance, input: SequenceInput): ModelInspection {
  const model = m.model;
  if (!(model instanceof ImageClassifier)) throw new QkvError('this model does not read images');
  const enc = model.encoder;
  if (!(enc instanceof PatchEncoder)) throw new QkvError(`a ${m.config.model.kind} model has no attention to look at (train with --model transformer: patches + self-attention)`);
  if (!input.image) throw new QkvError('this model reads images: give a PNG or JPEG');
  const { channels, height, width, data } = input.image;
  const cls = enc.clsToken !== null;
  const tokens = patchTokens(enc.rows, enc.cols, cls);
  const T = tokens.length;
  const first = enc.encoder.encoder.layers.at(0);
  const E = enc.outDim;
  const H = first.nhead;
  const hd = E / H;
  const prediction = classifyDriver.predict(m, [input])[0]!;
  const layers = tidy(() => noGrad(() => {
    const batch = m.featurizer.batch([input]);
    const a = enc.embed(batch.images!); // a^i: (1, [1 +] L, D)
    const r = enc.encoder.inspect(a, { returnIntermediates: true });
    return r.layers.map((l, li) => {
      const sa = enc.encoder.encoder.layers.at(li).self_attn;
      return layerJSON(l, { W: sa.in_proj_weight, bias: sa.in_proj_bias, w: sa.additive_w }, H, hd, E);
    });
  }));
  // (C, H, W) rows of the normalised values the model read
  const pixels = Array.from({ length: channels }, (_, c) => Array.from({ length: height }, (_, y) => Array.from(data.subarray((c * height + y) * width, (c * height + y + 1) * width))));
  return {
    task: 'classify', input: 'image', tokens, keys: null, unknown: new Array<boolean>(T).fill(false), edges: null, prediction,
    model: {
      kind: m.config.model.kind, attention: first.self_attn.attention, pos: 'learned 2-D (row + column)', layers: enc.encoder.encoder.layers.length, heads: H, dModel: E, headDim: hd,
      window: enc.encoder.window, normFirst: first.normFirst, scale: 1 / Math.sqrt(hd), ...kindInfo(first.self_attn.attention),
    },
    blocked: Array.from({ length: T }, () => new Array<boolean>(T).fill(false)),
    layers, parts: null, generation: null,
    image: { channels, height, width, pixels, patch: enc.options.patch, rows: enc.rows, cols: enc.cols, cls },
  };
}
