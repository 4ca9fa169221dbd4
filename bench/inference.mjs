// Inference, qkv against ONNX Runtime (onnxruntime-node, CPU, in this process) on qkv's own
// exported graphs: the baby GPT's forward over a block and its greedy generation (KV cache), and
// a Transformer encoder (a tagger body: 4 pre-LN layers, d=256, 4 heads, N=256, batch 8).
import { fmtMs, fmtRatio, log, makeRow, q, timeItAsync, timeOn, tokenIds, webgpuAdapter, withBackend } from './lib.mjs';

export const title = 'qkv vs ONNX Runtime (CPU and WebGPU execution providers) on the exported models (baby GPT forward and greedy generation, encoder forward)';

/** This section times the webgpu column too (to the end of the device's queue), beside ONNX Runtime's WebGPU execution provider. */
export const webgpu = true;

const GPT = { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, bias: false };
const ENC = { dModel: 256, heads: 4, layers: 4, n: 256, batch: 8 };

/** ONNX Runtime's side of a row, timed by the same plan as qkv's (bench/timing.mjs). */
async function timeAsync(fn, opts) {
  return (await timeItAsync(fn, opts)).ms;
}

export function models() {
  const gpt = new q.nn.GPT({ ...GPT, generator: new q.Generator(1) });
  gpt.eval();
  const tagger = new q.SequenceTagger({ kind: 'frames', frameDim: ENC.dModel },
    { ...q.DEFAULT_MODEL, dModel: ENC.dModel, heads: ENC.heads, layers: ENC.layers, pos: 'none', dropout: 0 }, 8, new q.Generator(2));
  tagger.eval();
  return { gpt, tagger };
}

export async function run(ctx) {
  const timing = { warmup: ctx.quick ? 1 : 3, reps: ctx.quick ? 3 : 10, maxMs: ctx.quick ? 3000 : 20000 };
  // the 1-2 ms forward, both sides: 30 warm-up calls and at least 2 s of them, then the median of 20.
  // A fresh model's first forwards run slow while V8 optimises the op layer: ~40 calls at 1.5-1.8 ms
  // on the Xeon, but 300-600 calls (2.0-2.4 ms at first, ~1.0 ms after) on an AMD EPYC Zen 4, where
  // 30 calls timed the JIT, not the forward
  const fwdTiming = { ...timing, warmup: ctx.quick ? 1 : 30, warmupMs: ctx.quick ? 0 : 2000, reps: ctx.quick ? 3 : 20 };
  if (!ctx.quick) ctx.notes.push('inference: the GPT forward warms up 30 calls and at least 2 s and takes the median of 20, generation and the encoder warm up 3 runs, on every side');
  const newTokens = ctx.quick ? 16 : 63;
  const rows = {
    forward: makeRow('inference', 'gpt.forward', `GPT forward, batch 1 × ${GPT.blockSize} tokens, ms`),
    generate: makeRow('inference', 'gpt.generate', `GPT greedy generation, ${newTokens} tokens (KV cache), tokens/s`),
    encoder: makeRow('inference', 'encoder.forward', `encoder forward, ${ENC.layers} layers d=${ENC.dModel}, batch ${ENC.batch} × ${ENC.n}, ms`),
  };
  const ids = Array.from(tokenIds(3, GPT.blockSize, GPT.vocabSize));
  const frames = Float32Array.from(tokenIds(4, ENC.batch * ENC.n * ENC.dModel, 1000), (x) => x / 500 - 1);
  for (const be of ctx.backends) {
    const res = await withBackend(be, async (backend) => {
      const { gpt, tagger } = models();
      const idx = q.tensor(Int32Array.from(ids), { shape: [1, GPT.blockSize] });
      // on a device the logits are read back, as ONNX Runtime's WebGPU provider gives them on the host
      const forward = be.device
        ? async () => { const logits = q.noGrad(() => q.tidy(() => gpt.forward(idx).logits)); await logits.data(); logits.dispose(); }
        : () => q.noGrad(() => q.tidy(() => { gpt.forward(idx); }));
      const f = (await timeOn(be, backend, forward, fwdTiming)).ms;
      rows.forward.cells[be.id] = { value: f, ms: f, text: fmtMs(f) };
      // every token's logits are read back to pick the next one (awaited on a device)
      const gen = () => (be.device ? q.generateTokensAsync : q.generateTokens)(gpt, [ids[0]], { maxNewTokens: newTokens, temperature: 0 });
      const g = (await timeOn(be, backend, gen, { ...timing, reps: Math.min(timing.reps, 5) })).ms;
      rows.generate.cells[be.id] = { value: g, ms: g, text: `${(newTokens / (g / 1000)).toFixed(0)} tok/s` };
      const x = q.tensor(frames, { shape: [ENC.batch, ENC.n, ENC.dModel] });
      const pad = q.zeros([ENC.batch, ENC.n], { dtype: 'int32' });
      const e = (await timeOn(be, backend, () => q.noGrad(() => q.tidy(() => { tagger.forward({ frames: x, keyPaddingMask: pad }); })), timing)).ms;
      rows.encoder.cells[be.id] = { value: e, ms: e, text: fmtMs(e) };
      log(`inference: ${be.label}: forward ${fmtMs(f)}, generate ${rows.generate.cells[be.id].text}, encoder ${fmtMs(e)}`);
      for (const t of [idx, x, pad]) t.dispose();
      gpt.dispose?.();
      tagger.dispose?.();
    });
    if (res?.unavailable) for (const r of Object.values(rows)) r.cells[be.id] = { text: res.unavailable };
  }
  let ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    for (const r of Object.values(rows)) r.cells.ort = { text: 'not installed' };
    ctx.notes.push(`ONNX Runtime: onnxruntime-node cannot be loaded (${e.message.split('\n')[0]})`);
    return Object.values(rows);
  }
  // export on the reference backend (the weights are the same seeded values on every backend)
  const { gpt, tagger } = models();
  const [gptFile, decoderFile] = q.exportOnnx(gpt);
  const [encFile] = q.exportOnnx(tagger);
  const i64 = (a, dims) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), dims);
  const hs = GPT.nEmbd / GPT.nHead;
  /** The three rows on one execution provider, in cells[id]. */
  const runOrt = async (id, label, opts) => {
    const forward = await ort.InferenceSession.create(gptFile.bytes, opts);
    const decoder = await ort.InferenceSession.create(decoderFile.bytes, opts);
    const encoder = await ort.InferenceSession.create(encFile.bytes, opts);
    try {
      const f = await timeAsync(() => forward.run({ idx: i64(ids, [1, GPT.blockSize]) }), fwdTiming);
      rows.forward.cells[id] = { value: f, ms: f, text: fmtMs(f) };
      const generate = async () => {
        let feed = {};
        for (let i = 0; i < GPT.nLayer; i++) {
          feed[`past_key_${i}`] = new ort.Tensor('float32', new Float32Array(0), [1, GPT.nHead, 0, hs]);
          feed[`past_value_${i}`] = new ort.Tensor('float32', new Float32Array(0), [1, GPT.nHead, 0, hs]);
        }
        let input = [ids[0]];
        for (let step = 0; step < newTokens; step++) {
          const r = await decoder.run({ ...feed, idx: i64(input, [1, input.length]) });
          const logits = r.logits.data;
          let next = 0;
          for (let v = 1; v < logits.length; v++) if (logits[v] > logits[next]) next = v;
          input = [next];
          feed = {};
          for (const [k, t] of Object.entries(r)) if (k.startsWith('present_')) feed[k.replace('present_', 'past_')] = t;
        }
      };
      const g = await timeAsync(generate, { ...timing, reps: Math.min(timing.reps, 5) });
      rows.generate.cells[id] = { value: g, ms: g, text: `${(newTokens / (g / 1000)).toFixed(0)} tok/s` };
      const e = await timeAsync(() => encoder.run({
        frames: new ort.Tensor('float32', frames, [ENC.batch, ENC.n, ENC.dModel]), key_padding_mask: i64(new Array(ENC.batch * ENC.n).fill(0), [ENC.batch, ENC.n]),
      }), timing);
      rows.encoder.cells[id] = { value: e, ms: e, text: fmtMs(e) };
      log(`inference: ${label}: forward ${fmtMs(f)}, generate ${rows.generate.cells[id].text}, encoder ${fmtMs(e)}`);
    } finally {
      for (const s of [forward, decoder, encoder]) await s.release();
    }
  };
  await runOrt('ort', 'ONNX Runtime CPU', { intraOpNumThreads: ctx.cores, interOpNumThreads: 1 });
  // ONNX Runtime's WebGPU execution provider (bundled in onnxruntime-node's Linux build) runs its own
  // Dawn on the Vulkan driver qkv's webgpu column set up: SwiftShader on a machine without a GPU
  const wantGpu = ctx.backends.some((b) => b.device);
  const haveGpu = (ort.listSupportedBackends?.() ?? []).some((b) => b.name === 'webgpu' && b.bundled);
  if (!wantGpu) for (const r of Object.values(rows)) r.cells.ortWebgpu = { text: 'left out' };
  else if (!haveGpu) {
    for (const r of Object.values(rows)) r.cells.ortWebgpu = { text: 'not in this build' };
    ctx.notes.push('ONNX Runtime WebGPU: this onnxruntime-node build has no WebGPU execution provider (ort.listSupportedBackends())');
  } else {
    try {
      await runOrt('ortWebgpu', 'ONNX Runtime WebGPU', { executionProviders: ['webgpu'], logSeverityLevel: 3 });
      ctx.notes.push(`ONNX Runtime WebGPU: onnxruntime-node's WebGPU execution provider on ${webgpuAdapter ?? 'the machine\'s Vulkan adapter'} (its own Dawn; shape ops stay on its CPU provider, as ONNX Runtime assigns them); timed to its outputs on the host (qkv webgpu: the forward's logits read back, the encoder to the end of its queue; generation: each token's logits read back, on both)`);
    } catch (e) {
      for (const r of Object.values(rows)) if (!r.cells.ortWebgpu) r.cells.ortWebgpu = { text: `error: ${String(e.message).split('\n')[0].slice(0, 80)}` };
      ctx.notes.push(`ONNX Runtime WebGPU: failed here: ${String(e.message).split('\n')[0]}`);
    }
  }
  for (const r of Object.values(rows)) {
    const best = ctx.best(r);
    const peer = r.cells.ort?.value;
    r.target = { text: '(no target) vs ONNX Runtime', verdict: '', why: best && peer !== undefined ? `ONNX Runtime takes ${fmtRatio(peer / best.ms)} qkv's (${best.id}) time` : '' };
    // issue 21: qkv's webgpu GPT forward at least as fast as ONNX Runtime's WebGPU on the same adapter (the other rows: the ratio)
    const [gpu, ortGpu] = [r.cells.webgpu?.value, r.cells.ortWebgpu?.value];
    if (gpu !== undefined && ortGpu !== undefined) {
      const ratio = `ONNX Runtime WebGPU takes ${fmtRatio(ortGpu / gpu)} qkv webgpu's time`;
      if (r === rows.forward) r.target = { text: 'webgpu ≤ ONNX Runtime WebGPU time (21)', verdict: gpu <= ortGpu ? 'PASS' : 'FAIL', why: [`${ratio} on ${webgpuAdapter ?? 'the same adapter'}`, r.target.why].filter(Boolean).join('; ') };
      else r.target.why += `${r.target.why ? '; ' : ''}${ratio}`;
    }
  }
  ctx.notes.push(`ONNX Runtime: onnxruntime-node ${ort.env.versions?.node ?? ''} CPU, ${ctx.cores} intra-op threads, on qkv's opset 17 export of the same weights`);
  return Object.values(rows);
}
