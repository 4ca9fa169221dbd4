"""PyTorch CPU peer of `npm run bench`: run by bench/*.mjs with /usr/bin/python3.

    python3 torch_gpt.py gemm|gpt|encoder|lm|lmtext|lmsteps   < request.json   -> one JSON line on stdout

gemm: median ms of torch.mm at each size, and at each of the request's shapes (a transposed operand a view of a stored transpose). gpt: nanoGPT's model (the baby shakespeare-char
shape from the request, dropout 0, AdamW, no clipping) trained on the request's tokens, median
ms per step. encoder: nn.TransformerEncoder forward (eval, inference mode), median ms.
lm: nanoGPT's training loop on a text file (the bench's end-to-end row times the whole process).
lmsteps: lm()'s update from given weights on given batches, the loss of each step (bench/lm-steps.mjs).
lmtext: the loss of lm()'s checkpoint on the text's whole validation split (untimed, beside the row).
"""
import base64
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F


def timed(fn, warmup=1, reps=5, max_ms=float("inf")):
    """Same protocol as bench/lib.mjs timeIt: warm-up, then up to reps timed runs within max_ms."""
    for _ in range(warmup):
        t = time.perf_counter()
        fn()
        ms = (time.perf_counter() - t) * 1000
        if ms >= max_ms:  # a warm-up that alone takes the budget is the one measurement
            return ms
    runs, total = [], 0.0
    while len(runs) < reps and (not runs or total < max_ms):
        t = time.perf_counter()
        fn()
        ms = (time.perf_counter() - t) * 1000
        runs.append(ms)
        total += ms
    runs.sort()
    m = len(runs) // 2
    return runs[m] if len(runs) % 2 else (runs[m - 1] + runs[m]) / 2


def layer_norm(c):
    """LayerNorm with a bias unless c['bias'] is False (nanoGPT's bias=False; torch >= 2.1)."""
    if c.get("bias", True):
        return nn.LayerNorm(c["nEmbd"])
    return nn.LayerNorm(c["nEmbd"], bias=False)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c["nEmbd"], 3 * c["nEmbd"], bias=c.get("bias", True))
        self.c_proj = nn.Linear(c["nEmbd"], c["nEmbd"], bias=c.get("bias", True))
        self.n_head = c["nHead"]
        T = c["blockSize"]
        self.flash = hasattr(F, "scaled_dot_product_attention")  # torch >= 2.0, as nanoGPT
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if self.flash:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = layer_norm(c)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = layer_norm(c)
        self.c_fc = nn.Linear(c["nEmbd"], 4 * c["nEmbd"], bias=c.get("bias", True))
        self.c_proj = nn.Linear(4 * c["nEmbd"], c["nEmbd"], bias=c.get("bias", True))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocabSize"], c["nEmbd"])
        self.wpe = nn.Embedding(c["blockSize"], c["nEmbd"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["nLayer"])])
        self.ln_f = layer_norm(c)
        self.lm_head = nn.Linear(c["nEmbd"], c["vocabSize"], bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as nanoGPT
        for name, p in self.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c["nLayer"]) if name.endswith("c_proj.weight") else 0.02
                torch.nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def gemm(r):
    ms = {}
    for n in r["sizes"]:
        a, b = torch.randn(n, n), torch.randn(n, n)
        # the same per-size protocol as qkv's rows (bench/gemm.mjs squareReps: more runs of small products)
        reps = r.get("repsBySize", {}).get(str(n), r["reps"])
        warmup = r.get("warmupBySize", {}).get(str(n), 1)
        ms[n] = timed(lambda: torch.mm(a, b), warmup, reps, r.get("maxMs", float("inf")))
    # shapes: {key, m, n, k, ta, tb}; a transposed operand is stored transposed (a view of its transpose)
    for s in r.get("shapes", []):
        m, n, k = s["m"], s["n"], s["k"]
        a = torch.randn(k, m).t() if s["ta"] else torch.randn(m, k)
        b = torch.randn(n, k).t() if s["tb"] else torch.randn(k, n)
        reps = r["reps"] * (10 if m == 1 else 1)
        ms[s["key"]] = timed(lambda: torch.mm(a, b), 2, reps, r.get("maxMs", float("inf")))
    return {"ms": ms}


def gpt(r):
    torch.manual_seed(r["seed"])
    model = GPT(r)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=r["lr"], weight_decay=r["weightDecay"])
    B, T = r["batch"], r["blockSize"]
    tokens = torch.tensor(r["tokens"], dtype=torch.long).view(-1, B, T + 1)
    state = {"s": 0, "loss": float("nan")}

    def step():
        chunk = tokens[state["s"]]
        state["s"] += 1
        loss = model(chunk[:, :T], chunk[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state["loss"] = loss.item()

    ms = timed(step, r["warmup"], r["reps"], r.get("maxMs", float("inf")))
    return {"ms": ms, "loss": state["loss"], "flash": model.h[0].attn.flash}


def lm(r):
    """nanoGPT's train.py loop for its baby config on a text file, in qkv's step order: characters as
    tokens (sorted(set(text))), the first 90% trains; r["iters"] steps of a random batch (get_batch),
    nanoGPT's get_lr (linear warmup, cosine to min_lr), gradient clipping, AdamW (betas 0.9/beta2,
    weight decay on tensors of 2+ dims only); after every eval_interval-th step and the last,
    estimate_loss over eval_iters batches of each split and a checkpoint (last, and best when the
    validation loss improved), as `qkv train lm` does. The caller times the whole process."""
    torch.manual_seed(r["seed"])
    with open(r["data"], encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
    cut = int(0.9 * len(data))
    splits = {"train": data[:cut], "val": data[cut:]}
    c = dict(r, vocabSize=len(chars))
    model = GPT(c)
    model.train()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": r["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=r["lr"], betas=(0.9, r["beta2"]))
    B, T, iters = r["batchSize"], r["blockSize"], r["iters"]
    warmup, decay_iters, lr, min_lr = r["warmup"], r.get("lrDecayIters", iters), r["lr"], r["minLr"]

    def get_batch(split):
        d = splits[split]
        ix = torch.randint(len(d) - T, (B,))
        return torch.stack([d[i:i + T] for i in ix]), torch.stack([d[i + 1:i + 1 + T] for i in ix])

    def get_lr(it):
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        if it > decay_iters:
            return min_lr
        ratio = (it - warmup) / (decay_iters - warmup)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)

    @torch.no_grad()
    def estimate_loss():
        model.eval()
        out = {s: sum(model(*get_batch(s)).item() for _ in range(r["evalIters"])) / r["evalIters"] for s in splits}
        model.train()
        return out

    os.makedirs(r["out"], exist_ok=True)
    best, last, evals = float("inf"), float("nan"), []
    for it in range(iters):
        for g in opt.param_groups:
            g["lr"] = get_lr(it)
        loss = model(*get_batch("train"))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if r["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), r["clip"])
        opt.step()
        last = loss.item()
        step = it + 1
        if step % r["evalInterval"] == 0 or step == iters:
            losses = estimate_loss()
            evals.append([step, losses["train"], losses["val"]])
            ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": step}
            torch.save(ckpt, os.path.join(r["out"], "last.pt"))
            if losses["val"] < best:
                best = losses["val"]
                torch.save(ckpt, os.path.join(r["out"], "best.pt"))
    return {"loss": last, "val": best, "vocab": len(chars), "evals": evals}


def lmtext(r):
    """The loss of a whole text under a checkpoint of lm() (r["ckpt"]), as qkv's textLoss / `qkv eval`:
    non-overlapping windows of block_size inputs, every token after the first predicted once."""
    with open(r["data"], encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))  # the vocabulary lm() trained with, from the whole text
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = torch.tensor([stoi[ch] for ch in text[int(0.9 * len(text)):]], dtype=torch.long)  # the validation split
    model = GPT(dict(r, vocabSize=len(chars)))
    model.load_state_dict(torch.load(r["ckpt"])["model"])
    model.eval()
    T, total, n = r["blockSize"], 0.0, len(ids) - 1
    with torch.no_grad():
        for s in range(0, n, T):
            x, y = ids[s:min(s + T, n)], ids[s + 1:min(s + T, n) + 1]
            total += model(x.unsqueeze(0), y.unsqueeze(0)).item() * len(x)
    return {"loss": total / n, "tokens": n}


def lmsteps(r):
    """lm()'s update (AdamW with decay on matrices, get_lr, clipping) from qkv's initial weights
    (r["weights"]: qkv names -> base64 float32) on qkv's batches (r["batches"]: [x, y] token lists):
    the loss before each step, for bench/lm-steps.mjs to compare with qkv's Trainer step by step."""
    model = GPT(dict(r, vocabSize=r["vocabSize"]))
    own = dict(model.named_parameters())
    with torch.no_grad():
        for name, w in r["weights"].items():
            mine = name.removeprefix("transformer.").replace(".mlp.", ".")  # nanoGPT's names -> this file's
            t = torch.frombuffer(bytearray(base64.b64decode(w["f32"])), dtype=torch.float32).view(*w["shape"])
            own[mine].copy_(t)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": r["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=r["lr"], betas=(0.9, r["beta2"]))
    B, T, n = r["batchSize"], r["blockSize"], len(r["batches"])
    warmup, lr, min_lr = r["warmup"], r["lr"], r["minLr"]

    def get_lr(it):
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * (it - warmup) / (n - warmup))) * (lr - min_lr)

    losses = []
    for it, (x, y) in enumerate(r["batches"]):
        for g in opt.param_groups:
            g["lr"] = get_lr(it)
        loss = model(torch.tensor(x).view(B, T), torch.tensor(y).view(B, T))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), r["clip"])
        opt.step()
        losses.append(loss.item())
    return {"losses": losses}


def encoder(r):
    torch.manual_seed(r.get("seed", 0))
    layer = nn.TransformerEncoderLayer(r["dModel"], r["nhead"], r["dimFeedforward"], dropout=0.0, batch_first=True)
    enc = nn.TransformerEncoder(layer, r["layers"], enable_nested_tensor=False).eval()
    x = torch.randn(r["batch"], r["n"], r["dModel"])

    def fwd():
        with torch.inference_mode():
            enc(x)

    return {"ms": timed(fwd, r["warmup"], r["reps"], r.get("maxMs", float("inf")))}


def main():
    mode = sys.argv[1]
    r = json.loads(sys.stdin.read() or "{}")
    torch.set_num_threads(int(r.get("threads", torch.get_num_threads())))
    try:
        out = {"gemm": gemm, "gpt": gpt, "encoder": encoder, "lm": lm, "lmtext": lmtext, "lmsteps": lmsteps}[mode](r)
    except Exception as e:  # one JSON line, whatever happens
        print(json.dumps({"error": f"{type(e).__name__}: {e}".splitlines()[0]}))
        sys.exit(1)
    out["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability"):
        out["torch"]["capability"] = torch.backends.cpu.get_cpu_capability()  # ATen's kernels (ATEN_CPU_CAPABILITY)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
