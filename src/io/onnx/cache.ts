// The decoding graphs' cache, shared by GPT and the seq2seq decoder, as the attention kind
// decodes (nn's decodingOf): per layer either past_key_i / past_value_i (B, heads, P, hd) in and
// present_key_i / present_value_i out ('kv': softmax, relu, additive attention), or a recurrent
// kind's state past_S_i (B, heads, hd, hd), past_z_i (B, heads, hd) in and present_S_i /
// present_z_i out ('recurrent': linear attention), with a 0-D past_length input (the state
// does not say how many positions it has seen).
import { attentionKind, decodingOf } from '../../nn/attention/kinds/index.js';
import type { AttendOptions } from './attention.js';
import type { OnnxGraph } from './graph.js';
import { dim } from './layers.js';

/** Whether a kind decodes with a recurrent state (else a KV cache). */
export function recurrent(kind: string): boolean {
  return decodingOf(attentionKind(kind, 'exportOnnx')) === 'recurrent';
}

/** What a decoder graph of this kind carries between calls, for the export's description. */
export function cacheDescription(kind: string): string {
  return recurrent(kind) ? 'recurrent state (S, z)' : 'KV cache';
}

/** The cache inputs of `layers` layers of attention `kind` and the position of the first new token (0-D int64). */
export function cacheInputs(g: OnnxGraph, layers: number, heads: number, hd: number, kind: string): { caches: AttendOptions[]; offset: string } {
  const caches: AttendOptions[] = [];
  const linear = recurrent(kind);
  for (let i = 0; i < layers; i++) {
    caches.push(linear
      ? { state: { S: g.input(`past_S_${i}`, 'float32', ['batch', heads, hd, hd]), z: g.input(`past_z_${i}`, 'float32', ['batch', heads, hd]) } }
      : { past: { k: g.input(`past_key_${i}`, 'float32', ['batch', heads, 'past_sequence', hd]), v: g.input(`past_value_${i}`, 'float32', ['batch', heads, 'past_sequence', hd]) } });
  }
  const offset = linear ? g.input('past_length', 'int64', []) : dim(g, caches[0]!.past!.k, 2);
  return { caches, offset };
}

/** Layer i's cache after the new positions, as graph outputs. */
export function cacheOutputs(g: OnnxGraph, i: number, r: { present?: { k: string; v: string }; state?: { S: string; z: string } }, heads: number, hd: number): void {
  if (r.present) {
    g.output(r.present.k, `present_key_${i}`, 'float32', ['batch', heads, 'total_sequence', hd]);
    g.output(r.present.v, `present_value_${i}`, 'float32', ['batch', heads, 'total_sequence', hd]);
  } else if (r.state) {
    g.output(r.state.S, `present_S_${i}`, 'float32', ['batch', heads, hd, hd]);
    g.output(r.state.z, `present_z_${i}`, 'float32', ['batch', heads, hd]);
  }
}
