// The seq2seq Transformer as two ONNX graphs: the encoder, src -> memory, and one decoder call
// on new target positions with a KV cache per layer (or linear attention's state).
import { RotaryEmbedding } from '../../nn/attention/positional.js';
import type { Seq2SeqModel } from '../../nn/models/seq2seq.js';
import { cacheInputs, cacheOutputs } from './cache.js';
import { OnnxGraph } from './graph.js';
import { layerNorm, linear } from './layers.js';
import { addPositions, decoderLayer, encoderStack } from './transformer.js';

/** Token vectors · sqrt(dModel) + positions from `offset` (seq2seq's embed). */
function seq2seqEmbed(g: OnnxGraph, m: Seq2SeqModel, table: 'src_embed' | 'tgt_embed', ids: string, offset: string | null): string {
  let x = g.op('Mul', [g.op('Gather', [g.param(m[table].weight), ids], { axis: 0 }), g.scalar(Math.sqrt(m.config.dModel))]);
  if (m.pos) x = addPositions(g, x, m.pos, offset);
  return x;
}

function seq2seqRope(m: Seq2SeqModel): RotaryEmbedding | null {
  const r = m.transformer.encoder.layers.items[0]?.self_attn.rope ?? null;
  return r instanceof RotaryEmbedding ? r : null;
}

export function seq2seqEncoderGraph(m: Seq2SeqModel, opset: number): OnnxGraph {
  const g = new OnnxGraph('seq2seq_encoder', opset);
  g.nameTensors(m.stateDict());
  const src = g.input('src', 'int64', ['batch', 'source_sequence']);
  const pad = g.op('Cast', [g.input('src_key_padding_mask', 'int64', ['batch', 'source_sequence'])], { to: 9 });
  const memory = encoderStack(g, m.transformer.encoder, seq2seqEmbed(g, m, 'src_embed', src, null), { keyPad: pad, rope: seq2seqRope(m), maxLen: m.maxLen });
  g.output(memory, 'memory', 'float32', ['batch', 'source_sequence', m.config.dModel]);
  return g;
}

export function seq2seqDecoderGraph(m: Seq2SeqModel, opset: number): OnnxGraph {
  const g = new OnnxGraph('seq2seq_decoder', opset);
  g.nameTensors(m.stateDict());
  const c = m.config;
  const hd = c.dModel / c.heads;
  const tgt = g.input('tgt', 'int64', ['batch', 'sequence']);
  const memory = g.input('memory', 'float32', ['batch', 'source_sequence', c.dModel]);
  const srcPad = g.op('Cast', [g.input('src_key_padding_mask', 'int64', ['batch', 'source_sequence'])], { to: 9 });
  const layers = m.transformer.decoder.layers.items;
  const { caches, offset } = cacheInputs(g, layers.length, c.heads, hd, c.attention);
  let x = seq2seqEmbed(g, m, 'tgt_embed', tgt, offset);
  const rope = seq2seqRope(m);
  layers.forEach((layer, i) => {
    const r = decoderLayer(g, layer, x, memory, { ...caches[i], offset, rope, maxLen: m.maxLen }, { keyPad: srcPad });
    x = r.output;
    cacheOutputs(g, i, r, c.heads, hd);
  });
  if (m.transformer.decoder.norm) x = layerNorm(g, x, m.transformer.decoder.norm);
  g.output(linear(g, x, m.output), 'logits', 'float32', ['batch', 'sequence', m.tgtVocab]);
  g.outputs.unshift(g.outputs.pop()!); // logits first
  return g;
}
