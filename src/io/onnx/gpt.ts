// GPT (nanoGPT's layout) as ONNX graphs: the full forward pass idx (B, T) -> logits (B, T, V),
// and the decoding graph with a cache per layer: past_key_i / past_value_i (B, nh, P, hs) in,
// present_key_i / present_value_i out (softmax and relu attention), or linear attention's
// recurrent state past_S_i (B, nh, hs, hs), past_z_i (B, nh, hs) in, present_S_i, present_z_i
// out, with the number of positions already seen as a 0-D input past_length.
import type { GPT } from '../../nn/models/gpt.js';
import { attendHeads } from './attention.js';
import { cacheInputs, cacheOutputs } from './cache.js';
import { OnnxGraph } from './graph.js';
import { gelu, layerNorm, linear, slice } from './layers.js';

export type GptGraph = 'forward' | 'decoder';

export function gptGraph(gpt: GPT, kind: GptGraph, opset: number): OnnxGraph {
  const c = gpt.config;
  const g = new OnnxGraph(kind === 'decoder' ? 'gpt_decoder' : 'gpt', opset);
  g.nameTensors(gpt.namedParameters());
  const hs = c.nEmbd / c.nHead;
  const idx = g.input('idx', 'int64', ['batch', 'sequence']);
  const decoder = kind === 'decoder';
  const { caches, offset } = decoder ? cacheInputs(g, c.nLayer, c.nHead, hs, c.attention) : { caches: [], offset: null };
  const t = g.op('Shape', [idx], { start: 1, end: 2 });
  const start = offset ? g.op('Unsqueeze', [offset, g.ints([0])]) : g.ints([0]);
  const tok = g.op('Gather', [g.param(gpt.transformer.wte.weight), idx], { axis: 0 }); // (B, T, C)
  const pos = slice(g, g.param(gpt.transformer.wpe.weight), 0, start, g.op('Add', [start, t])); // (T, C)
  let x = g.op('Add', [tok, pos]);
  gpt.transformer.h.items.forEach((block, i) => {
    const h = layerNorm(g, x, block.ln_1);
    const [q, k, v] = g.opN('Split', [linear(g, h, block.attn.c_attn), g.ints([c.nEmbd, c.nEmbd, c.nEmbd])], { axis: -1 }, 3) as [string, string, string];
    const r = attendHeads(g, c.attention, q, k, v, c.nHead, c.nEmbd, { causal: true, params: block.attn.kindParams, ...caches[i] });
    x = g.op('Add', [x, linear(g, r.merged, block.attn.c_proj)]);
    x = g.op('Add', [x, linear(g, gelu(g, linear(g, layerNorm(g, x, block.ln_2), block.mlp.c_fc)), block.mlp.c_proj)]);
    if (decoder) cacheOutputs(g, i, r, c.nHead, hs);
  });
  x = layerNorm(g, x, gpt.transformer.ln_f);
  const logits = linear(g, x, gpt.lm_head); // lm_head.weight is wte.weight: one initializer
  g.output(logits, 'logits', 'float32', ['batch', 'sequence', c.vocabSize]);
  // logits first among the outputs
  g.outputs.unshift(g.outputs.pop()!);
  return g;
}
