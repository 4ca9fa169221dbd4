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

/**
 * The same greedy decoding on ONNX Runtime (`ort`: onnxruntime-node) with `session` on qkv's KV-cache
 * decoder graph (exportOnnx's second graph) of a GPT-2 model of config `c`: the prompt (rows of ids),
 * then one token at a time, each step's present fed back as the past.
 */
export async function ortGreedyTokens(ort, session, c, prompt, n) {
  const i64 = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const hd = c.nEmbd / c.nHead;
  let feed = { input_ids: i64(prompt) };
  for (let i = 0; i < c.nLayer; i++) for (const kv of ['key', 'value']) feed[`past_${kv}_${i}`] = new ort.Tensor('float32', new Float32Array(0), [1, c.nHead, 0, hd]);
  for (let t = 0; t < n; t++) {
    const r = await session.run(feed);
    const [, T, V] = r.logits.dims;
    const last = r.logits.data.subarray((T - 1) * V, T * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
    feed = { input_ids: i64([[best]]) };
    for (let i = 0; i < c.nLayer; i++) for (const kv of ['key', 'value']) feed[`past_${kv}_${i}`] = r[`present_${kv}_${i}`];
  }
}
