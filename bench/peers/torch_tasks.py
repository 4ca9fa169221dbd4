"""PyTorch CPU peer of the bench's task rows (bench/workloads.mjs), in plain PyTorch like torch_gpt.py:
    python3 torch_tasks.py seq2seq|tagger   < request.json   -> one JSON line on stdout
The request holds the shape, the vocabulary sizes and qkv's own batches as arrays (the same
length-bucketed batches qkv trains on), so both sides run the same model on the same data:

seq2seq: qkv's Seq2SeqModel: source and target embeddings (padding 0) times sqrt(d), sinusoidal
    positions, dropout, nn.Transformer (pre-LN, ReLU, final norms), a Linear to the target
    vocabulary; cross-entropy with ignore_index -100.
tagger: qkv's SequenceTagger with the char CNN: word embedding + a CNN over each distinct word's
    characters (16-dim char embedding, Conv1d kernel 3 'same', ReLU, max over characters) picked
    per position, sinusoidal positions, nn.TransformerEncoder (pre-LN, GELU, ff 4d, final norm),
    a Linear to the tags; cross-entropy with ignore_index -100.
Both train with AdamW (lr 1e-3, weight decay 0.01) and report the median ms per step.
"""
import json
import math
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

from torch_gpt import timed


def tensor(a, dtype=torch.long):
    return None if a is None else torch.tensor(a["data"], dtype=dtype).view(*a["shape"])


def sinusoidal(n, d):
    pos = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class Seq2Seq(nn.Module):
    def __init__(self, s, sizes):
        super().__init__()
        d = s["dModel"]
        self.scale = math.sqrt(d)
        self.src_embed = nn.Embedding(sizes["srcVocab"], d, padding_idx=0)
        self.tgt_embed = nn.Embedding(sizes["tgtVocab"], d, padding_idx=0)
        self.register_buffer("pe", sinusoidal(512, d))
        self.drop = nn.Dropout(0.1)
        self.transformer = nn.Transformer(d, s["heads"], s["layers"], s["layers"], s["ff"], dropout=0.1, activation="relu",
                                          batch_first=True, norm_first=True)
        self.output = nn.Linear(d, sizes["tgtVocab"])

    def embed(self, table, ids):
        return self.drop(table(ids) * self.scale + self.pe[: ids.size(1)])

    def forward(self, b):
        T = b["tgtIn"].size(1)
        causal = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        h = self.transformer(self.embed(self.src_embed, b["src"]), self.embed(self.tgt_embed, b["tgtIn"]), tgt_mask=causal,
                             src_key_padding_mask=b["srcPad"], tgt_key_padding_mask=b["tgtPad"], memory_key_padding_mask=b["srcPad"])
        logits = self.output(h)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), b["labels"].reshape(-1), ignore_index=-100)


class Tagger(nn.Module):
    def __init__(self, s, sizes):
        super().__init__()
        d = s["dModel"]
        self.words = nn.Embedding(sizes["vocab"], d, padding_idx=0)
        self.chars = nn.Embedding(sizes["chars"], 16, padding_idx=0)
        self.conv = nn.Conv1d(16, d, 3, padding="same")
        self.register_buffer("pe", sinusoidal(5000, d))
        layer = nn.TransformerEncoderLayer(d, s["heads"], 4 * d, dropout=0.1, activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, s["layers"], norm=nn.LayerNorm(d), enable_nested_tensor=False)
        self.head = nn.Linear(d, sizes["labels"])

    def forward(self, b):
        w = self.words(b["ids"])
        spelled = F.relu(self.conv(self.chars(b["chars"]).transpose(1, 2))).amax(2)  # (U, d): one vector per distinct word
        x = w + spelled[b["wordIndex"]] + self.pe[: w.size(1)]
        logits = self.head(self.encoder(x, src_key_padding_mask=b["pad"]))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), b["labels"].reshape(-1), ignore_index=-100)


def batches(r):
    out = []
    for b in r["batches"]:
        t = {k: tensor(v) for k, v in b.items() if v is not None}
        for k in ("srcPad", "tgtPad", "pad"):
            if k in t:
                t[k] = t[k].bool()  # 1 = padding
        out.append(t)
    return out


def train(r, model):
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    data = batches(r)
    state = {"s": 0, "loss": float("nan")}

    def step():
        b = data[state["s"] % len(data)]
        state["s"] += 1
        loss = model(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state["loss"] = loss.item()

    ms = timed(step, r["warmup"], r["reps"], r.get("maxMs", float("inf")))
    return {"ms": ms, "loss": state["loss"]}


def main():
    mode = sys.argv[1]
    r = json.loads(sys.stdin.read() or "{}")
    torch.set_num_threads(int(r.get("threads", torch.get_num_threads())))
    torch.manual_seed(r.get("seed", 0))
    try:
        model = {"seq2seq": Seq2Seq, "tagger": Tagger}[mode](r["shape"], r["sizes"])
        out = train(r, model)
    except Exception as e:  # one JSON line, whatever happens
        print(json.dumps({"error": f"{type(e).__name__}: {e}".splitlines()[0]}))
        sys.exit(1)
    out["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
