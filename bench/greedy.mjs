// The generation rows' decoding loop, shared by bench/hf.mjs and scripts/hf-ab.mjs / hf-profile.mjs;
// it imports no qkv build (each caller passes its own `q`).

/**
 * Greedy decoding of `n` tokens after `prompt` on a GPT-2 model's KV cache, asking lm_head for the
 * last position only (what the generation rows time); `q` is the qkv build in use (scripts/hf-ab.mjs
 * passes two).
 */
export function greedyTokens(q, m, prompt, n) {
  q.noGrad(() => {
    const caches = m.makeCaches(1);
    let next = prompt;
    for (let i = 0; i < n; i++) {
      const id = q.tidy(() => { const l = m.forward(next, { caches, logitsToKeep: 1 }).logits; return l.select(1, l.shape[1] - 1).argmax(-1).toTypedArray()[0]; });
      next = q.tensor([[id]], { dtype: 'int32' });
    }
    caches.forEach((k) => k.dispose());
  });
}
