// GPT (nanoGPT's layout) as ONNX graphs: the full forward pass idx (B, T) -> logits (B, T, V),
// and the decoding graph with a cache per layer: past_key_i / past_value_i (B, nh, P, hs) in,
// present_key_i / present_value_i out (softmax and relu attention), or linear attention's
// recurrent state past_S_i (B, nh, hs, hs), past_z_i (B, nh, hs) in, present_S_i, present_z_i
// out, with the number of positions already seen as a 0-D input past_length.
import type { GPT } from '../../nn/transformer/gpt.js';
import { attendHeads, type AttendOptions } from './attention.js';
import { OnnxGraph } from './graph.js';
import { dim, gelu, layerNorm, linear, slice } from './layers.js';

export type GptGraph = 'forward' | 'decoder';

export function gptGraph(gpt: GPT, kind: GptGraph, opset: number): OnnxGraph {
  const c = gpt.config;
  const g = new OnnxGraph(kind === 'decoder' ? 'gpt_decoder' : 'gpt', opset);
  g.nameTensors(gpt.namedParameters());
  const hs = c.nEmbd / c.nHead;
  const idx = g.input('idx', 'int64', ['batch', 'sequence']);
  const linearKind = c.attention === 'linear';
  const caches = kind === 'decoder' ? c.nLayer : 0;
  const past: AttendOptions[] = [];
  for (let i = 0; i < caches; i++) {
    past.push(linearKind
      ? { state: { S: g.input(`past_S_${i}`, 'float32', ['batch', c.nHead, hs, hs]), z: g.input(`past_z_${i}`, 'float32', ['batch', c.nHead, hs]) } }
      : { past: { k: g.input(`past_key_${i}`, 'float32', ['batch', c.nHead, 'past_sequence', hs]), v: g.input(`past_value_${i}`, 'float32', ['batch', c.nHead, 'past_sequence', hs]) } });
  }
  // where the new positions start: the cache's length
  let offset: string | null = null;
  if (caches) offset = linearKind ? g.input('past_length', 'int64', []) : dim(g, past[0]!.past!.k, 2);
  const t = g.op('Shape', [idx], { start: 1, end: 2 });
  const start = offset ? g.op('Unsqueeze', [offset, g.ints([0])]) : g.ints([0]);
  const tok = g.op('Gather', [g.param(gpt.transformer.wte.weight), idx], { axis: 0 }); // (B, T, C)
  const pos = slice(g, g.param(gpt.transformer.wpe.weight), 0, start, g.op('Add', [start, t])); // (T, C)
  let x = g.op('Add', [tok, pos]);
  gpt.transformer.h.items.forEach((block, i) => {
    const h = layerNorm(g, x, block.ln_1);
    const [q, k, v] = g.opN('Split', [linear(g, h, block.attn.c_attn), g.ints([c.nEmbd, c.nEmbd, c.nEmbd])], { axis: -1 }, 3) as [string, string, string];
    const r = attendHeads(g, c.attention, q, k, v, c.nHead, c.nEmbd, { causal: true, ...past[i] });
    x = g.op('Add', [x, linear(g, r.merged, block.attn.c_proj)]);
    x = g.op('Add', [x, linear(g, gelu(g, linear(g, layerNorm(g, x, block.ln_2), block.mlp.c_fc)), block.mlp.c_proj)]);
    if (!caches) return;
    if (r.present) {
      g.output(r.present.k, `present_key_${i}`, 'float32', ['batch', c.nHead, 'total_sequence', hs]);
      g.output(r.present.v, `present_value_${i}`, 'float32', ['batch', c.nHead, 'total_sequence', hs]);
    } else if (r.state) {
      g.output(r.state.S, `present_S_${i}`, 'float32', ['batch', c.nHead, hs, hs]);
      g.output(r.state.z, `present_z_${i}`, 'float32', ['batch', c.nHead, hs]);
    }
  });
  x = layerNorm(g, x, gpt.transformer.ln_f);
  const logits = linear(g, x, gpt.lm_head); // lm_head.weight is wte.weight: one initializer
  g.output(logits, 'logits', 'float32', ['batch', 'sequence', c.vocabSize]);
  // logits first among the outputs
  g.outputs.unshift(g.outputs.pop()!);
  return g;
}
