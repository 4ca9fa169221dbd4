// The RNN baseline (torch.nn.GRU / LSTM, batch_first, stacked, bidirectional, packed) as ONNX
// GRU / LSTM nodes. ONNX orders the gates differently (LSTM i,o,f,c for torch's i,f,g,o; GRU
// z,r,h for torch's r,z,n, with linear_before_reset = 1 for torch's n = tanh(W x + r ⊙ (R h + b))),
// so the weights are re-laid out once here; sequence_lens from the padding mask gives the
// packed-sequence semantics (the reverse direction starts at each sequence's last real step).
import type { RNNEncoder } from '../../nn/baselines/rnn.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxGraph } from './graph.js';
import { reduce } from './layers.js';

/** torch gate chunk order for each ONNX gate slot. */
const ORDER = { lstm: [0, 3, 1, 2], gru: [1, 0, 2] } as const;

function regate(t: Tensor, order: readonly number[]): Float32Array {
  const src = t.toTypedArray() as Float32Array;
  const chunk = src.length / order.length;
  const out = new Float32Array(src.length);
  order.forEach((from, to) => out.set(src.subarray(from * chunk, (from + 1) * chunk), to * chunk));
  return out;
}

/** x (B, T, in), keyPad bool (B, T) or null -> (B, T, hidden·dirs), zero at padded steps. */
export function rnnEncoder(g: OnnxGraph, enc: RNNEncoder, x: string, keyPad: string | null): string {
  const rnn = enc.rnn;
  const H = rnn.hiddenSize;
  const dirs = rnn.numDirections;
  const params = new Map(rnn.namedParameters());
  const order = ORDER[enc.cell];
  const G = order.length;
  // sequence_lens (B,) int32: the real steps of each sequence
  const lens = keyPad
    ? g.op('Cast', [reduce(g, 'ReduceSum', g.op('Cast', [g.op('Not', [keyPad])], { to: 6 }), [1], false)], { to: 6 })
    : null;
  let h = g.op('Transpose', [x], { perm: [1, 0, 2] }); // (T, B, in)
  for (let l = 0; l < rnn.numLayers; l++) {
    const suffixes = dirs === 2 ? [`_l${l}`, `_l${l}_reverse`] : [`_l${l}`];
    const stack = (name: string) => suffixes.map((s) => regate(params.get(`${name}${s}`)!, order));
    const join = (parts: Float32Array[]) => {
      const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) { out.set(p, at); at += p.length; }
      return out;
    };
    const inSize = params.get(`weight_ih${suffixes[0]}`)!.shape[1]!;
    const W = g.table(`rnn_W_l${l}`, [dirs, G * H, inSize], join(stack('weight_ih')));
    const R = g.table(`rnn_R_l${l}`, [dirs, G * H, H], join(stack('weight_hh')));
    const hasBias = params.has(`bias_ih${suffixes[0]}`);
    const B = hasBias ? g.table(`rnn_B_l${l}`, [dirs, 2 * G * H], join(suffixes.flatMap((s) => [regate(params.get(`bias_ih${s}`)!, order), regate(params.get(`bias_hh${s}`)!, order)]))) : '';
    const inputs = [h, W, R, B, lens ?? ''];
    while (inputs.at(-1) === '') inputs.pop();
    const attrs = { hidden_size: H, direction: dirs === 2 ? 'bidirectional' : 'forward', ...(enc.cell === 'gru' ? { linear_before_reset: 1 } : {}) };
    const y = g.opN(enc.cell === 'gru' ? 'GRU' : 'LSTM', inputs, attrs, 1)[0]!; // (T, dirs, B, H)
    h = g.op('Reshape', [g.op('Transpose', [y], { perm: [0, 2, 1, 3] }), g.ints([0, 0, dirs * H])]); // (T, B, dirs·H)
  }
  const out = g.op('Transpose', [h], { perm: [1, 0, 2] }); // (B, T, dirs·H)
  return keyPad ? g.op('Where', [g.op('Unsqueeze', [keyPad, g.ints([2])]), g.scalar(0), out]) : out;
}
