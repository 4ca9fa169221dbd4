// Trains a LoRA adapter with qkv on the tiny GPT-2 fixture and saves it in PEFT's format, to
// test/fixtures/hf/gpt2-lora-qkv/. Then `/work/venv/bin/python scripts/golden_hf.py --qkv-adapter`
// loads it with PEFT and writes the logits PEFT gives (peft.safetensors), which
// test/nn/hf/lora.test.ts compares with qkv's loading of the same adapter.
// Run after `npm run build`:  node scripts/hf-qkv-adapter.mjs
import { join } from 'node:path';
import { AdamW, fromPretrained, hf, manualSeed, saveAdapter, tensor, tidy } from '../dist/src/index.js';

const root = new URL('..', import.meta.url).pathname;
const base = join(root, 'test/fixtures/hf/gpt2');
const out = join(root, 'test/fixtures/hf/gpt2-lora-qkv');
manualSeed(7);
const { model, tokenizer } = fromPretrained(base);
const lora = { r: 4, alpha: 16, dropout: 0.1, targets: ['c_attn', 'c_fc'] };
hf.addLora(model, lora);
const params = hf.freezeForLora(model);
const opt = new AdamW(params, { lr: 2e-2 });
const ids = [...tokenizer.encode('I saw a saw. The saw was sharp, and I saw it cut the wood.')];
const x = tensor([ids.slice(0, -1)], { dtype: 'int32' });
const y = tensor([ids.slice(1)], { dtype: 'int32' });
model.train();
for (let step = 0; step < 8; step++) {
  const loss = tidy(() => {
    const l = model.forward(x, { targets: y }).loss;
    l.backward();
    return l.item();
  });
  opt.step();
  opt.zeroGrad();
  console.log(`step ${step} loss ${loss.toFixed(4)}`);
}
saveAdapter(out, model, lora, { baseModel: 'test/fixtures/hf/gpt2' });
console.log('wrote', out);
