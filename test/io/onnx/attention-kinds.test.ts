// The attention kind is the one place, for export too: exportOnnx of a GPT with each built-in
// kind (softmax, relu, additive, linear) runs in ONNX Runtime and matches qkv within 1e-4, on
// the forward graph and on the decoder graph (the kind's decoding, 'kv' or 'recurrent', picks
// its cache); a kind registered without an ONNX lowering is refused in one line naming it, and
// exports once it registers one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  exportOnnx, Generator, nn, noGrad, QkvError, registerAttentionLowering, softmax, tensor, tidy, div, matmul, mul, sqrt, sum, transpose, maskedFill,
  type OnnxFile, type Tensor,
} from '../../../src/index.js';
import { assertOnnxClose, int64, runOnnx, type Feed } from './ort.js';

// the cosine kind of test/nn/attention-kinds.test.ts and the README, under its own name here so
// the two tests can run in one process: alpha_{i,j} = cos(q^i, k^j) / tau, one tau per head
const COSINE = 'cosine-onnx';
nn.registerAttentionKind({
  name: COSINE,
  summary: 'softmax(cos(q, k) / tau)',
  honours: { attnMask: false, window: false, keyPaddingMask: false, keyPaddingWhileDecoding: false },
  weights: true,
  params: (heads) => ({ cosine_tau: tensor(new Float32Array(heads).fill(0.5), { shape: [heads] }) }),
  makeCache: () => new nn.KVCache(),
  attend: (c) => tidy(() => {
    const { k, v } = c.cache ? nn.asKVCache(c.cache, c.module).append(c.k, c.v) : c;
    const unit = (x: Tensor) => div(x, sqrt(sum(mul(x, x), -1, true)));
    const [, H, L] = c.q.shape as number[];
    let alpha = div(matmul(unit(c.q), transpose(unit(k))), c.params.cosine_tau!.reshape([1, H!, 1, 1]));
    if (c.causal) alpha = maskedFill(alpha, nn.causalMask(L!, k.shape[2]!), -Infinity);
    const alphaPrime = softmax(alpha, -1);
    return { b: matmul(alphaPrime, v), alphaPrime: c.needWeights ? alphaPrime : null };
  }),
});

const V = 11;

function gpt(attention: string): nn.GPT {
  const m = new nn.GPT({ vocabSize: V, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, attention, generator: new Generator(5) });
  m.eval();
  return m;
}

function ids(B: number, T: number, seed: number): number[] {
  const g = new Generator(seed);
  return Array.from({ length: B * T }, () => g.int(0, V));
}

const logitsOf = (m: nn.GPT, x: number[], B: number, T: number) => noGrad(() => tidy(() => m.forward(tensor(x, { shape: [B, T], dtype: 'int32' })).logits.toTypedArray()));

/** An empty cache for the decoder graph, read from the graph's own inputs (so nothing here knows the kind). */
async function emptyCache(file: OnnxFile, B: number, m: nn.GPT): Promise<Feed> {
  const { nLayer, nHead, nEmbd } = m.config;
  const hs = nEmbd / nHead;
  const recurrent = nn.decodingOf(nn.attentionKind(m.config.attention, 'test')) === 'recurrent';
  const feed: Feed = {};
  for (let i = 0; i < nLayer; i++) {
    if (recurrent) {
      feed[`past_S_${i}`] = { data: new Float32Array(B * nHead * hs * hs), dims: [B, nHead, hs, hs] };
      feed[`past_z_${i}`] = { data: new Float32Array(B * nHead * hs), dims: [B, nHead, hs] };
    } else {
      feed[`past_key_${i}`] = { data: new Float32Array(0), dims: [B, nHead, 0, hs] };
      feed[`past_value_${i}`] = { data: new Float32Array(0), dims: [B, nHead, 0, hs] };
    }
  }
  if (recurrent) feed.past_length = { data: int64([0]), dims: [] };
  assert.equal(file.role, 'decoder');
  return feed;
}

function nextCache(out: Record<string, { data: Float32Array; dims: readonly number[] }>, past: number): Feed {
  const feed: Feed = {};
  for (const [k, v] of Object.entries(out)) if (k.startsWith('present_')) feed[k.replace('present_', 'past_')] = { data: v.data, dims: [...v.dims] };
  if ('past_S_0' in feed) feed.past_length = { data: int64([past]), dims: [] };
  return feed;
}

for (const attention of ['softmax', 'relu', 'additive', 'linear']) {
  test(`exportOnnx of a GPT with ${attention} attention: forward and decoder graphs equal qkv in ONNX Runtime (1e-4)`, async () => {
    const m = gpt(attention);
    const files = exportOnnx(m);
    assert.deepEqual(files.map((f) => f.role), ['model', 'decoder']);
    const recurrent = nn.decodingOf(nn.attentionKind(attention, 'test')) === 'recurrent';
    assert.match(files[1]!.what, recurrent ? /recurrent state \(S, z\)/ : /KV cache/);
    // forward
    const [B, T] = [2, 7];
    const x = ids(B, T + 1, 11);
    const full = logitsOf(m, x, B, T + 1);
    const out = await runOnnx(files[0]!.bytes, { idx: { data: int64(x), dims: [B, T + 1] } });
    assert.deepEqual(out.logits!.dims, [B, T + 1, V]);
    assertOnnxClose(out.logits!.data, full, `${attention}: forward logits`);
    // decoder: the prompt, then one token on the cache, equal the full pass
    const prompt = x.filter((_, i) => i % (T + 1) < T);
    const first = await runOnnx(files[1]!.bytes, { idx: { data: int64(prompt), dims: [B, T] }, ...await emptyCache(files[1]!, B, m) });
    const rows = (from: number, to: number) => Array.from({ length: B }, (_, b) => Array.from(full.subarray((b * (T + 1) + from) * V, (b * (T + 1) + to) * V))).flat();
    assertOnnxClose(first.logits!.data, rows(0, T), `${attention}: decoder, prompt logits`);
    const last = x.filter((_, i) => i % (T + 1) === T);
    const second = await runOnnx(files[1]!.bytes, { idx: { data: int64(last), dims: [B, 1] }, ...nextCache(first, T) });
    assertOnnxClose(second.logits!.data, rows(T, T + 1), `${attention}: decoder, the token after the cache`);
  });
}

test('a registered kind without an ONNX lowering is refused in one line naming it; with one it exports', async () => {
  const m = gpt(COSINE);
  let err: unknown;
  try {
    exportOnnx(m);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof QkvError, `a QkvError, got ${String(err)}`);
  assert.equal(err.message.split('\n').length, 1);
  assert.match(err.message, new RegExp(`"${COSINE}" attention kind has no ONNX lowering; register one with registerAttentionLowering`));

  // the lowering: cos(q, k) / tau, causal, softmax
  registerAttentionLowering(COSINE, (g, c) => {
    const unit = (x: string) => g.op('Div', [x, g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [x, x]), g.ints([-1])], { keepdims: 1 })])]);
    const tau = g.op('Reshape', [g.param(c.params.cosine_tau!), g.ints([1, c.H, 1, 1])]);
    let alpha = g.op('Div', [g.op('MatMul', [unit(c.q), g.op('Transpose', [unit(c.k)], { perm: [0, 1, 3, 2] })]), tau]); // (B, H, L, S)
    const Sn = g.op('Shape', [c.k], { start: 2, end: 3 });
    const Ln = g.op('Shape', [c.q], { start: 2, end: 3 });
    const one = g.scalar(1, 'int64');
    const S = g.op('Squeeze', [Sn, g.ints([0])]);
    const rowsPos = g.op('Unsqueeze', [g.op('Range', [g.op('Sub', [S, g.op('Squeeze', [Ln, g.ints([0])])]), S, one]), g.ints([1])]);
    const cols = g.op('Unsqueeze', [g.op('Range', [g.scalar(0, 'int64'), S, one]), g.ints([0])]);
    if (c.causal) alpha = g.op('Where', [g.op('Greater', [cols, rowsPos]), g.scalar(-1e30), alpha]);
    return { b: g.op('MatMul', [g.op('Softmax', [alpha], { axis: -1 }), c.v]) };
  });
  const files = exportOnnx(m);
  const x = ids(1, 6, 3);
  const out = await runOnnx(files[0]!.bytes, { idx: { data: int64(x), dims: [1, 6] } });
  assertOnnxClose(out.logits!.data, logitsOf(m, x, 1, 6), 'cosine: forward logits');
});
