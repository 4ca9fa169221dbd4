// Dot-product relevance (lecture §4, the common one): alpha_{i,j} = q^i · k^j / sqrt(d),
// normalised over j by softmax (the Transformer's) or by ReLU ("another activation also
// works"). Softmax runs fused (FlashAttention) whenever that is exact; see scaled-dot-product.ts.
import { KVCache } from '../kv-cache.js';
import { asKVCache } from '../decoding-cache.js';
import { scaledDotProductAttention, type Normalizer } from '../scaled-dot-product.js';
import { registerAttentionKind, type AttendCall, type AttentionKindDef } from './kind.js';

function dotProduct(name: Normalizer, summary: string): AttentionKindDef {
  return {
    name,
    summary,
    honours: { attnMask: true, window: true, keyPaddingMask: true, keyPaddingWhileDecoding: true },
    weights: true,
    decoding: 'kv',
    lecture: { relevance: 'dot', normalizer: name },
    pytorch: name === 'softmax', // torch.nn.MultiheadAttention and nanoGPT normalise by softmax
    makeCache: () => new KVCache(),
    attend(c: AttendCall) {
      const { k, v } = c.cache ? asKVCache(c.cache, c.module).append(c.k, c.v) : c; // (B, H, S, d) with the past
      const r = scaledDotProductAttention(c.q, k, v, {
        attnMask: c.attnMask, keyPaddingMask: c.keyPaddingMask, causal: c.causal, window: c.window, needWeights: c.needWeights,
        returnScores: c.returnScores, normalizer: name, dropout: c.dropout, training: c.training, generator: c.generator,
      }, c.module);
      return c.cache ? { ...r, k, v } : r;
    },
  };
}

export const softmaxAttention = registerAttentionKind(dotProduct('softmax', 'softmax(q·k/sqrt(d)): the Transformer\'s (fused when exact)'));
export const reluAttention = registerAttentionKind(dotProduct('relu', 'relu(q·k/sqrt(d)): the lecture\'s "another activation also works"'));
