// The Transformer's layers and stacks in ONNX (torch.nn.TransformerEncoderLayer /
// DecoderLayer semantics, pre- or post-LN), and AttentionEncoder (the taggers' body).
import type { LearnedPositionalEncoding, SinusoidalPositionalEncoding } from '../../nn/attention/positional.js';
import { SinusoidalPositionalEncoding as Sinusoidal } from '../../nn/attention/positional.js';
import type { AttentionEncoder } from '../../nn/transformer/attention-encoder.js';
import type { TransformerDecoderLayer, TransformerEncoderLayer } from '../../nn/transformer/layers.js';
import type { TransformerEncoder } from '../../nn/transformer/stacks.js';
import type { RotaryEmbedding } from '../../nn/attention/positional.js';
import { multiheadAttention, type AttendOptions } from './attention.js';
import type { OnnxGraph } from './graph.js';
import { activation, layerNorm, linear, slice } from './layers.js';

function feedForward(g: OnnxGraph, layer: TransformerEncoderLayer | TransformerDecoderLayer, x: string): string {
  return linear(g, activation(g, linear(g, x, layer.linear1), layer.activation), layer.linear2);
}

/** One encoder layer: x + SA(LN(x)), x + FF(LN(x)) (pre-LN) or LN(x + SA(x)), LN(x + FF(x)). */
export function encoderLayer(g: OnnxGraph, layer: TransformerEncoderLayer, x: string, o: AttendOptions): string {
  const sa = (h: string) => multiheadAttention(g, layer.self_attn, h, h, o).output;
  if (layer.normFirst) {
    const h = g.op('Add', [x, sa(layerNorm(g, x, layer.norm1))]);
    return g.op('Add', [h, feedForward(g, layer, layerNorm(g, h, layer.norm2))]);
  }
  const h = layerNorm(g, g.op('Add', [x, sa(x)]), layer.norm1);
  return layerNorm(g, g.op('Add', [h, feedForward(g, layer, h)]), layer.norm2);
}

export function encoderStack(g: OnnxGraph, enc: TransformerEncoder, x: string, o: AttendOptions): string {
  let h = x;
  for (const layer of enc.layers) h = encoderLayer(g, layer, h, o);
  return enc.norm ? layerNorm(g, h, enc.norm) : h;
}

/**
 * One decoder layer on new target positions: masked self-attention over the past (a KV cache,
 * `self.past` in, `present` out), cross-attention on the encoder's memory, feed-forward.
 */
export function decoderLayer(g: OnnxGraph, layer: TransformerDecoderLayer, x: string, memory: string, self: AttendOptions, cross: AttendOptions):
  { output: string; present?: { k: string; v: string }; state?: { S: string; z: string } } {
  let present: { k: string; v: string } | undefined;
  let state: { S: string; z: string } | undefined;
  const sa = (h: string) => {
    const r = multiheadAttention(g, layer.self_attn, h, h, { ...self, causal: true });
    present = r.present;
    state = r.state;
    return r.output;
  };
  const ca = (h: string) => multiheadAttention(g, layer.multihead_attn, h, memory, cross).output;
  const ff = (h: string) => feedForward(g, layer, h);
  let h: string;
  if (layer.normFirst) {
    h = g.op('Add', [x, sa(layerNorm(g, x, layer.norm1))]);
    h = g.op('Add', [h, ca(layerNorm(g, h, layer.norm2))]);
    h = g.op('Add', [h, ff(layerNorm(g, h, layer.norm3))]);
  } else {
    h = layerNorm(g, g.op('Add', [x, sa(x)]), layer.norm1);
    h = layerNorm(g, g.op('Add', [h, ca(h)]), layer.norm2);
    h = layerNorm(g, g.op('Add', [h, ff(h)]), layer.norm3);
  }
  return { output: h, present, state };
}

/** x + e^{offset..offset+T-1} for a sinusoidal or learned positional encoding (x: (B, T, d)). */
export function addPositions(g: OnnxGraph, x: string, pos: SinusoidalPositionalEncoding | LearnedPositionalEncoding, offset: string | null = null): string {
  const table = g.param(pos instanceof Sinusoidal ? pos.pe : pos.weight);
  const T = g.op('Shape', [x], { start: 1, end: 2 });
  const start = offset ? g.op('Unsqueeze', [offset, g.ints([0])]) : g.ints([0]);
  return g.op('Add', [x, slice(g, table, 0, start, g.op('Add', [start, T]))]);
}

/** AttentionEncoder: projection, positions, encoder layers (window and RoPE inside attention). */
export function attentionEncoder(g: OnnxGraph, enc: AttentionEncoder, x: string, o: { keyPad: string | null; attnMask: string | null; maxLen?: number }): string {
  let a = enc.input ? linear(g, x, enc.input) : x;
  if (enc.pos) a = addPositions(g, a, enc.pos);
  const rope = (enc.encoder.layers.items[0]?.self_attn.rope ?? null) as RotaryEmbedding | null;
  return encoderStack(g, enc.encoder, a, { keyPad: o.keyPad, attnMask: o.attnMask, window: enc.window, rope, maxLen: o.maxLen });
}
