// Linear attention ("Transformers are RNNs", lecture §5): softmax(q·k) replaced by φ(q)·φ(k)
// with φ = elu + 1, so attention costs O(N) and causal decoding is an RNN over a constant-size
// state (S, z). It never forms alpha', so it returns no weights, and it can honour causality
// and key padding only: a window or an arbitrary mask would need the weights it never forms.
import { stack } from '../../../ops/join.js';
import { linearAttention } from '../../../ops/linear-attention.js';
import { select } from '../../../ops/views.js';
import { tidy } from '../../../tensor/engine.js';
import { ModuleError } from '../../module.js';
import { LinearAttentionState } from '../linear-attention-state.js';
import { registerAttentionKind, type AttendCall } from './kind.js';

export const linearAttentionKind = registerAttentionKind({
  name: 'linear',
  summary: 'φ(q)·φ(k), φ = elu+1: O(N), decodes as an RNN ("Transformers are RNNs")',
  honours: { attnMask: false, window: false, keyPaddingMask: true, keyPaddingWhileDecoding: false },
  weights: false,
  decoding: 'recurrent',
  makeCache: (batch, heads, dk, dv) => new LinearAttentionState(batch, heads, dk, dv),
  attend(c: AttendCall) {
    if (!c.cache) return { b: linearAttention(c.q, c.k, c.v, { causal: c.causal, keyPaddingMask: c.keyPaddingMask ?? null }), alphaPrime: null };
    const state = c.cache;
    if (!(state instanceof LinearAttentionState)) throw new ModuleError(c.module, 'linear attention decodes with a LinearAttentionState, not a KVCache');
    return tidy(() => {
      // the RNN form: one state update per new position
      const outs = [];
      for (let t = 0; t < c.q.shape[2]!; t++) outs.push(state.step(select(c.q, 2, t), select(c.k, 2, t), select(c.v, 2, t))); // (B, H, dv)
      return { b: stack(outs, 2), alphaPrime: null }; // (B, H, L, dv)
    });
  },
});
