#!/usr/bin/env python3
"""Continue a qkv model in PyTorch: load what `qkv export --model RUN --torch DIR` wrote.

DIR holds model.safetensors (qkv's parameter names, which are nanoGPT's for a GPT and
torch.nn.Transformer's for seq2seq) and config.json (`kind`: "nanogpt" or "transformer").

  # logits of token ids (what the test compares with qkv's)
  /usr/bin/python3 scripts/torch_handoff.py DIR --logits '[[1, 2, 3]]'
  # seq2seq: source and target ids
  /usr/bin/python3 scripts/torch_handoff.py DIR --logits '{"src": [[4, 5, 6]], "tgt": [[1, 7]]}'
  # continue training a GPT on a text file (nanoGPT's batches, AdamW) and save nanoGPT's ckpt.pt
  /usr/bin/python3 scripts/torch_handoff.py DIR --train input.txt --steps 1000 --out ckpt.pt
  # the same on several processes (DistributedDataParallel, gloo on CPU, nccl on GPUs)
  torchrun --nproc_per_node 4 scripts/torch_handoff.py DIR --train input.txt --steps 1000 --out ckpt.pt

The GPT is built from nanoGPT's model.py when it is importable (a nanoGPT checkout on
PYTHONPATH: `from model import GPT, GPTConfig`), else from the copy of its architecture below
(same module names, so the checkpoint also loads into nanoGPT itself). Needs only torch: the
safetensors file is read here (8-byte header length, JSON header, raw little-endian data).
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "I32": torch.int32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        a, b = entry["data_offsets"]
        t = torch.frombuffer(bytearray(body[a:b]), dtype=DTYPES[entry["dtype"]]) if b > a else torch.empty(0, dtype=DTYPES[entry["dtype"]])
        out[name] = t.reshape(entry["shape"]).clone()
    return out


# ---- nanoGPT's architecture (model.py), kept to its names -------------------------------------
class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
        self.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.attn_dropout = nn.Dropout(c.dropout)
        self.resid_dropout = nn.Dropout(c.dropout)
        self.n_head, self.n_embd = c.n_head, c.n_embd
        self.register_buffer("bias", torch.tril(torch.ones(c.block_size, c.block_size)).view(1, 1, c.block_size, c.block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c.n_embd, bias=c.bias)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c.n_embd, bias=c.bias)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPTConfig:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c.vocab_size, c.n_embd), wpe=nn.Embedding(c.block_size, c.n_embd), drop=nn.Dropout(c.dropout),
            h=nn.ModuleList([Block(c) for _ in range(c.n_layer)]), ln_f=LayerNorm(c.n_embd, bias=c.bias)))
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx, targets=None):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1) if targets is not None else None
        return logits, loss


# ---- the seq2seq model: embeddings and positions around torch.nn.Transformer --------------------
class Seq2Seq(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.scale = math.sqrt(d)
        self.src_embed = nn.Embedding(c["src_vocab_size"], d, padding_idx=0)
        self.tgt_embed = nn.Embedding(c["tgt_vocab_size"], d, padding_idx=0)
        self.kind = c["pos"]
        if c["pos"] == "learned":
            self.pos = nn.Module()
            self.pos.weight = nn.Parameter(torch.zeros(c["max_len"], d))
        elif c["pos"] == "sinusoidal":
            pe = torch.zeros(c["max_len"], d)
            i = torch.arange(c["max_len"], dtype=torch.float64)[:, None]
            j = torch.arange(0, d, 2, dtype=torch.float64)
            pe[:, 0::2] = torch.sin(i / 10000 ** (j / d)).float()
            pe[:, 1::2] = torch.cos(i / 10000 ** (j / d)).float()
            self.register_buffer("pe", pe, persistent=False)
        self.transformer = nn.Transformer(d, c["nhead"], c["num_encoder_layers"], c["num_decoder_layers"], c["dim_feedforward"], c["dropout"],
                                          activation=c["activation"], batch_first=True, norm_first=c["norm_first"])
        self.output = nn.Linear(d, c["tgt_vocab_size"])

    def embed(self, table, ids):
        x = table(ids) * self.scale
        if self.kind == "learned":
            x = x + self.pos.weight[: ids.size(1)]
        elif self.kind == "sinusoidal":
            x = x + self.pe[: ids.size(1)]
        return x

    def forward(self, src, tgt, src_pad=None):
        T = tgt.size(1)
        causal = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        h = self.transformer(self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt), tgt_mask=causal,
                             src_key_padding_mask=src_pad, memory_key_padding_mask=src_pad)
        return self.output(h)


def load(directory):
    with open(os.path.join(directory, "config.json")) as f:
        c = json.load(f)
    tensors = read_safetensors(os.path.join(directory, "model.safetensors"))
    if c["kind"] == "nanogpt":
        args = {k: c[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout")}
        try:
            from model import GPT as NanoGPT, GPTConfig as NanoConfig  # nanoGPT's own model.py, when on PYTHONPATH
            model = NanoGPT(NanoConfig(**args))
        except ImportError:
            model = GPT(GPTConfig(**args))
        missing, unexpected = model.load_state_dict(tensors, strict=False)
        missing = [k for k in missing if not k.endswith(".attn.bias")]  # nanoGPT's causal-mask buffers
        if missing or unexpected:
            sys.exit(f"{directory}: state dict does not fit nanoGPT's GPT (missing {missing}, unexpected {unexpected})")
        return c, model
    if c["kind"] == "transformer":
        model = Seq2Seq(c)
        model.load_state_dict(tensors, strict=True)
        return c, model
    sys.exit(f"{directory}: unknown kind {c['kind']!r} in config.json")


def train(c, model, text_file, steps, lr, batch_size, out):
    """nanoGPT-style continued training of a GPT on a text (character or word vocabulary from config.json)."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        model = nn.parallel.DistributedDataParallel(model)
    raw = model.module if distributed else model
    with open(text_file, encoding="utf-8") as f:
        text = f.read()
    vocab = c["vocab"]
    if vocab["kind"] != "chars":
        sys.exit("--train reads character-level models only (this one has a word vocabulary)")
    index = {ch: i for i, ch in enumerate(vocab["chars"])}
    data = torch.tensor([index[ch] for ch in text if ch in index], dtype=torch.long)
    block = c["block_size"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.1)
    model.train()
    for step in range(steps):
        ix = torch.randint(len(data) - block - 1, (batch_size,))
        x = torch.stack([data[i:i + block] for i in ix])
        y = torch.stack([data[i + 1:i + 1 + block] for i in ix])
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == steps - 1:
            print(json.dumps({"step": step, "loss": loss.item()}), flush=True)
    if out and (not distributed or torch.distributed.get_rank() == 0):
        args = {k: c[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout")}
        torch.save({"model": raw.state_dict(), "model_args": args, "iter_num": steps, "config": c}, out)  # nanoGPT's ckpt.pt layout


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dir")
    p.add_argument("--logits", help="JSON token ids: [[...]] for a GPT, {\"src\": [[...]], \"tgt\": [[...]]} for seq2seq")
    p.add_argument("--train", help="text file to continue training a character GPT on")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--out", help="where --train saves nanoGPT's ckpt.pt")
    a = p.parse_args()
    c, model = load(a.dir)
    if a.logits:
        model.eval()
        ids = json.loads(a.logits)
        with torch.no_grad():
            if c["kind"] == "nanogpt":
                logits, _ = model(torch.tensor(ids, dtype=torch.long))
            else:
                logits = model(torch.tensor(ids["src"], dtype=torch.long), torch.tensor(ids["tgt"], dtype=torch.long))
        print(json.dumps({"shape": list(logits.shape), "logits": logits.flatten().tolist()}))
    if a.train:
        if c["kind"] != "nanogpt":
            sys.exit("--train continues GPTs; for seq2seq, train the loaded model with your own loop")
        train(c, model, a.train, a.steps, a.lr, a.batch_size, a.out)


if __name__ == "__main__":
    main()
