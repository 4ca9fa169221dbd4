// What the visualizer shows for an encoder-decoder: the model's greedy output for the typed
// source (or a given target), then one teacher-forced pass over <bos> + that output recording the encoder's
// self-attention (source x source), the decoder's causal self-attention (target x target) and
// the cross-attention (target x source: decoder queries over the encoder's keys and values).
import { QkvError } from '../core/errors.js';
import { Vocab } from '../data/vocab.js';
import type { MultiheadAttention } from '../nn/attention/multihead.js';
import { tensor } from '../ops/creation.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { AttentionPart, InspectOptions, LayerInspection, ModelInspection } from './wire.js';
import { generationIds, type Seq2SeqInput, type Seq2SeqInstance } from '../tasks/seq2seq.js';
import { greedyBatch, padIds } from '../tasks/seq2seq-decode.js';
import { kindInfo, layerJSON, rows } from './heads.js';

export function inspectSeq2Seq(m: Seq2SeqInstance, input: Seq2SeqInput, o: InspectOptions = {}): ModelInspection {
  if (!input?.source?.length) throw new QkvError('the input is empty: type at least one token');
  const model = m.model;
  const c = model.config;
  const src = Array.from(m.source.encode(input.source));
  if (src.length > model.maxLen) throw new QkvError(`the input has ${src.length} tokens; the model reads at most ${model.maxLen}`);
  const limit = o.maxNewTokens ?? 2 * src.length + 10;
  if (!Number.isInteger(limit) || limit < 1) throw new QkvError(`the output limit must be an integer >= 1, got ${limit}`);
  const wasTraining = model.training;
  model.eval();
  try {
    // a given target is read as the training data's targets are; else the model's own greedy output
    const out = o.target ? Array.from(m.target.encode(o.target)) : greedyBatch(model, [src], [Math.min(limit, model.maxLen - 1)], generationIds(m))[0]!;
    if (out.length + 1 > model.maxLen) throw new QkvError(`the target has ${out.length} tokens; the model reads at most ${model.maxLen - 1}`);
    const H = c.heads;
    const hd = c.dModel / H;
    const E = c.dModel;
    const proj = (a: MultiheadAttention) => ({ W: a.in_proj_weight, bias: a.in_proj_bias, w: a.additive_w });
    const encoder: LayerInspection[] = [];
    const decoder: LayerInspection[] = [];
    const cross: LayerInspection[] = [];
    tidy(() => noGrad(() => {
      const { ids, pad } = padIds([src]);
      const memory = model.encode(ids, pad, (li, r) => { encoder[li] = layerJSON(r, proj(model.transformer.encoder.layers.at(li).self_attn), H, hd, E); });
      const aKeys = rows(memory.select(0, 0)); // what cross-attention's keys and values are made from
      const tgt = [m.target.bos, ...out];
      model.decode(tensor(Int32Array.from(tgt), { shape: [1, tgt.length] }), memory, {
        srcPad: pad,
        onAttention: (li, what, r) => {
          const layer = model.transformer.decoder.layers.at(li);
          if (what === 'self') decoder[li] = layerJSON(r, proj(layer.self_attn), H, hd, E);
          else cross[li] = { ...layerJSON(r, proj(layer.multihead_attn), H, hd, E, false), aKeys };
        },
      });
    }));
    const piece = (ids: number[]) => m.source.decode(ids).join('');
    const sourceTokens = m.source instanceof Vocab ? [...input.source] : src.map((id) => piece([id]));
    const outTokens = m.target instanceof Vocab ? (o.target ?? m.target.decode(out)) : out.map((id) => m.target.decode([id]).join(''));
    const targetTokens = ['<bos>', ...outTokens];
    const T = targetTokens.length;
    const S = sourceTokens.length;
    const parts: AttentionPart[] = [
      { name: 'decoder self-attention', tokens: targetTokens, keys: null, blocked: targetTokens.map((_, i) => targetTokens.map((__, j) => j > i)), layers: decoder },
      { name: 'cross-attention', tokens: targetTokens, keys: sourceTokens, blocked: Array.from({ length: T }, () => new Array<boolean>(S).fill(false)), layers: cross },
    ];
    return {
      task: 'seq2seq', input: 'words', tokens: sourceTokens, keys: null,
      unknown: src.map((id) => m.source instanceof Vocab && id === m.source.unk),
      edges: null, prediction: outTokens.join(m.config.tokenize === 'words' ? ' ' : ''),
      model: { kind: 'transformer', attention: c.attention, pos: c.pos, layers: c.layers, heads: H, dModel: E, headDim: hd, window: null, normFirst: c.normFirst, scale: 1 / Math.sqrt(hd), ...kindInfo(c.attention) },
      blocked: Array.from({ length: S }, () => new Array<boolean>(S).fill(false)),
      layers: encoder, parts, generation: null,
    };
  } finally {
    model.train(wasTraining);
  }
}
