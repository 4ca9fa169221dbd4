"""PyTorch CPU peer of `npm run bench`: run by bench/*.mjs with /usr/bin/python3.

    python3 torch_gpt.py gemm|gpt|encoder   < request.json   -> one JSON line on stdout

gemm: median ms of torch.mm at each size. gpt: nanoGPT's model (the baby shakespeare-char
shape from the request, dropout 0, AdamW, no clipping) trained on the request's tokens, median
ms per step. encoder: nn.TransformerEncoder forward (eval, inference mode), median ms.
"""
import json
import math
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


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c["nEmbd"], 3 * c["nEmbd"])
        self.c_proj = nn.Linear(c["nEmbd"], c["nEmbd"])
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
        self.ln_1 = nn.LayerNorm(c["nEmbd"])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c["nEmbd"])
        self.c_fc = nn.Linear(c["nEmbd"], 4 * c["nEmbd"])
        self.c_proj = nn.Linear(4 * c["nEmbd"], c["nEmbd"])

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocabSize"], c["nEmbd"])
        self.wpe = nn.Embedding(c["blockSize"], c["nEmbd"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["nLayer"])])
        self.ln_f = nn.LayerNorm(c["nEmbd"])
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
        ms[n] = timed(lambda: torch.mm(a, b), 1, r["reps"], r.get("maxMs", float("inf")))
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
        out = {"gemm": gemm, "gpt": gpt, "encoder": encoder}[mode](r)
    except Exception as e:  # one JSON line, whatever happens
        print(json.dumps({"error": f"{type(e).__name__}: {e}".splitlines()[0]}))
        sys.exit(1)
    out["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
