"""The PyTorch side of bench/hf.mjs: the same shapes with transformers' GPT2LMHeadModel and
BertForSequenceClassification on random weights (eager attention off: PyTorch's default SDPA),
float32 CPU, all threads. Reads the request (sizes) as JSON on stdin, prints timings as JSON."""
import json
import statistics
import sys
import time

import torch
from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2LMHeadModel

req = json.load(sys.stdin)
B, T, reps = req['B'], req['T'], req['reps']


def timed(fn, n=reps):
    fn()
    runs = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def ids(b, t, v):
    return torch.tensor([[(i * 31 + j * 7) % v for i in range(t)] for j in range(b)])


def step_timer(model, params, loss):
    opt = torch.optim.AdamW(params, lr=1e-4)

    def step():
        loss().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return timed(step)


def lora(model, targets):
    from peft import LoraConfig, get_peft_model
    return get_peft_model(model, LoraConfig(r=req['lora'], lora_alpha=2 * req['lora'], target_modules=targets, lora_dropout=0.0))


out = {'torch': torch.__version__, 'threads': torch.get_num_threads()}
g = req['gpt2']
cfg = GPT2Config(**g, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
torch.manual_seed(1)
m = GPT2LMHeadModel(cfg).eval()
x = ids(1, T, g['vocab_size'])
with torch.no_grad():
    fwd = timed(lambda: m(input_ids=x))
    prompt = ids(1, 16, g['vocab_size'])
    gen = timed(lambda: m.generate(prompt, max_new_tokens=req['newTokens'], min_new_tokens=req['newTokens'], do_sample=False, pad_token_id=0), 2)
xb, yb = ids(B, T, g['vocab_size']), ids(B, T, g['vocab_size'])
m.train()
full = step_timer(m, m.parameters(), lambda: m(input_ids=xb, labels=yb).loss)
res = {'forwardMs': fwd, 'generateTokensPerS': req['newTokens'] / gen * 1000, 'fullStepMs': full}
try:
    pm = lora(GPT2LMHeadModel(cfg).train(), ['c_attn'])
    res['loraStepMs'] = step_timer(pm, [p for p in pm.parameters() if p.requires_grad], lambda: pm(input_ids=xb, labels=yb).loss)
except ImportError:
    res['loraStepMs'] = None
out['gpt2'] = res
bcfg = BertConfig(**req['bert'], num_labels=2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
torch.manual_seed(2)
m = BertForSequenceClassification(bcfg).eval()
x = ids(B, T, req['bert']['vocab_size'])
labels = torch.tensor([i % 2 for i in range(B)])
with torch.no_grad():
    fwd = timed(lambda: m(input_ids=x))
m.train()
res = {'forwardMs': fwd, 'fullStepMs': step_timer(m, m.parameters(), lambda: m(input_ids=x, labels=labels).loss)}
try:
    pm = lora(BertForSequenceClassification(bcfg).train(), ['query', 'value'])
    res['loraStepMs'] = step_timer(pm, [p for p in pm.parameters() if p.requires_grad], lambda: pm(input_ids=x, labels=labels).loss)
except ImportError:
    res['loraStepMs'] = None
out['bert'] = res
print(json.dumps(out))
