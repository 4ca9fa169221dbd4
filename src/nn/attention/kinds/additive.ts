// Additive relevance (lecture §4, the right-hand one): alpha_{i,j} = w · tanh(q^i + k^j) per
// head (q = W^q a and k = W^k a already made by the module), normalised by softmax. It forms
// the (B, H, L, S, d) tensor of tanh terms, so it is for study, not for long sequences.
import { uniform } from '../../init.js';
import { add, tanh } from '../../../ops/elementwise.js';
import { dropout } from '../../../ops/dropout.js';
import { matmul } from '../../../ops/linalg.js';
import { softmax } from '../../../ops/softmax.js';
import { reshape, unsqueeze } from '../../../ops/views.js';
import { tidy } from '../../../tensor/engine.js';
import { KVCache } from '../kv-cache.js';
import { asKVCache } from '../decoding-cache.js';
import { applyMasks, withStructure } from '../scaled-dot-product.js';
import { registerAttentionKind, type AttendCall } from './kind.js';

export const additiveAttention = registerAttentionKind({
  name: 'additive',
  summary: 'softmax(w·tanh(q + k)): the lecture\'s additive relevance',
  honours: { attnMask: true, window: true, keyPaddingMask: true, keyPaddingWhileDecoding: true },
  weights: true,
  decoding: 'kv',
  lecture: { relevance: 'additive', normalizer: 'softmax' },
  // one w per head; the name is the state-dict key (MultiheadAttention's additive_w)
  params: (heads, headDim, g) => ({ additive_w: uniform([heads, headDim], 1 / Math.sqrt(headDim), g) }),
  makeCache: () => new KVCache(),
  attend(c: AttendCall) {
    return tidy(() => {
      const { k, v } = c.cache ? asKVCache(c.cache, c.module).append(c.k, c.v) : c;
      const [B, H, L, hd] = c.q.shape as [number, number, number, number];
      const S = k.shape[2]!;
      const t = tanh(add(unsqueeze(c.q, 3), unsqueeze(k, 2))); // tanh(q^i + k^j), (B, H, L, S, hd)
      const w = reshape(c.params.additive_w!, [1, H, 1, hd, 1]);
      const masks = withStructure(c, c.causal, c.window, L, S, c.module);
      const alpha = applyMasks(reshape(matmul(t, w), [B, H, L, S]), masks, [B, H, L, S], c.module); // (B, H, L, S)
      let alphaPrime = softmax(alpha, -1);
      if (c.dropout && c.training) alphaPrime = dropout(alphaPrime, c.dropout, true, c.generator);
      const b = matmul(alphaPrime, v); // (B, H, L, dv)
      return { b, alphaPrime: c.needWeights ? alphaPrime : null, alpha: c.returnScores ? alpha : null, ...(c.cache ? { k, v } : {}) };
    });
  },
});
