// Peak and held memory of a LoRA step against a frozen forward and a full fine-tuning step, on a
// random GPT2LMHeadModel (d 256, 4 layers, vocab 4000; batch 4 x 128 tokens). Engine bytes
// (memory().peakBytes above what was live before). Run after `npm run build`: node scripts/hf-lora-memory.mjs
import { AdamW, hf, memory, noGrad, resetPeak, tidy, tensor } from '../dist/src/index.js';
const c = { vocabSize: 4000, nPositions: 256, nEmbd: 256, nLayer: 4, nHead: 4, nInner: 1024, activation: 'gelu_tanh', layerNormEpsilon: 1e-5, residPdrop: 0, embdPdrop: 0, attnPdrop: 0, bosTokenId: null, eosTokenId: null };
const m = new hf.GPT2LMHeadModel(c);
const B = 4, T = 128;
const x = tensor(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (i * 7 + b) % 4000)), { dtype: 'int32' });
const y = tensor(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, i) => (i * 11 + b) % 4000)), { dtype: 'int32' });
const peak = (fn) => { const s = memory().bytes; resetPeak(); fn(); return ((memory().peakBytes - s) / 2 ** 20).toFixed(1) + ' MiB'; };
const step = (params) => () => { const opt = new AdamW(params, { lr: 1e-3 }); tidy(() => m.forward(x, { targets: y }).loss.backward()); opt.step(); opt.zeroGrad(); };
console.log('weights', (m.parameterCount() * 4 / 2 ** 20).toFixed(1), 'MiB');
console.log('frozen forward (no grad)', peak(() => noGrad(() => tidy(() => { m.forward(x, { targets: y }); }))));
console.log('forward keeping activations', peak(() => tidy(() => { m.forward(x, { targets: y }); })));
console.log('full step', peak(step(m.parameters())));
hf.addLora(m, { r: 8, alpha: 16, targets: ['c_attn', 'c_proj', 'c_fc'] });
const lp = hf.freezeForLora(m);
console.log('adapters', (lp.reduce((n, p) => n + p.size, 0) * 4 / 2 ** 20).toFixed(2), 'MiB');
console.log('LoRA r=8 step', peak(step(lp)));
{
  const s = memory().bytes; const opt = new AdamW(lp, { lr: 1e-3 }); tidy(() => m.forward(x, { targets: y }).loss.backward()); opt.step();
  console.log('LoRA: held after the step (grads + AdamW state)', ((memory().bytes - s) / 2 ** 20).toFixed(2), 'MiB');
}
{
  const m2 = new hf.GPT2LMHeadModel(c); const s = memory().bytes; const opt = new AdamW(m2.parameters(), { lr: 1e-3 }); tidy(() => m2.forward(x, { targets: y }).loss.backward()); opt.step();
  console.log('full: held after the step (grads + AdamW state)', ((memory().bytes - s) / 2 ** 20).toFixed(2), 'MiB');
}
