"""PyTorch CPU peer of the bench's task rows (bench/workloads.mjs), in plain PyTorch like torch_gpt.py:
    python3 torch_tasks.py seq2seq|tagger|classify|vit|speech   < request.json   -> one JSON line on stdout
The request holds the shape, the vocabulary sizes and qkv's own batches as arrays (the same
length-bucketed batches qkv trains on), so both sides run the same model on the same data:

seq2seq: qkv's Seq2SeqModel: source and target embeddings (padding 0) times sqrt(d), sinusoidal
    positions, dropout, nn.Transformer (pre-LN, ReLU, final norms), a Linear to the target
    vocabulary; cross-entropy with ignore_index -100.
tagger: qkv's SequenceTagger with the char CNN: word embedding + a CNN over each distinct word's
    characters (16-dim char embedding, Conv1d kernel 3 'same', ReLU, max over characters) picked
    per position, sinusoidal positions, nn.TransformerEncoder (pre-LN, GELU, ff 4d, final norm),
    a Linear to the tags; cross-entropy with ignore_index -100.
classify: qkv's SequenceClassifier: the tagger's input and encoder, the mean of the real
    positions' vectors (padding left out), a Linear to the labels; cross-entropy.
vit: qkv's ImageClassifier with the PatchEncoder: p x p patches projected to d (a Conv2d of
    stride p, the same product as unfold2d + Linear), a learned row vector plus a learned
    column vector per patch (N(0, 0.02)), a class token first (N(0, 0.02)), no other positions,
    the encoder as the tagger's (pre-LN, GELU, ff 4d, final norm), the class token's output to a
    Linear; cross-entropy.
speech: qkv's SequenceTagger on frames: a Linear from the frame features to d (the
    AttentionEncoder's input projection), sinusoidal positions, the tagger's encoder, a Linear
    to the phones per frame; cross-entropy with ignore_index -100.
Float inputs (frames, images) come as base64 float32 bytes ({"shape", "f32"}), ids as JSON arrays.
All train with AdamW (lr 1e-3, weight decay 0.01) and report the median ms per step.
"""
import base64
import json
import math
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

from torch_gpt import timed


def tensor(a, dtype=torch.long):
    if a is None:
        return None
    if "f32" in a:  # float32 bytes, little-endian (what Float32Array holds)
        return torch.frombuffer(bytearray(base64.b64decode(a["f32"])), dtype=torch.float32).view(*a["shape"]).clone()
    return torch.tensor(a["data"], dtype=dtype).view(*a["shape"])


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


def encoder(s, d):
    """qkv's AttentionEncoder body: pre-LN layers (GELU, ff 4d, dropout 0.1) and a final LayerNorm."""
    layer = nn.TransformerEncoderLayer(d, s["heads"], 4 * d, dropout=0.1, activation="gelu", batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, s["layers"], norm=nn.LayerNorm(d), enable_nested_tensor=False)


class TokenInput(nn.Module):
    """qkv's InputLayer for tokens: word embedding + char CNN per distinct word, then sinusoidal positions."""

    def __init__(self, d, sizes):
        super().__init__()
        self.words = nn.Embedding(sizes["vocab"], d, padding_idx=0)
        self.chars = nn.Embedding(sizes["chars"], 16, padding_idx=0)
        self.conv = nn.Conv1d(16, d, 3, padding="same")
        self.register_buffer("pe", sinusoidal(5000, d))

    def forward(self, b):
        w = self.words(b["ids"])
        spelled = F.relu(self.conv(self.chars(b["chars"]).transpose(1, 2))).amax(2)  # (U, d): one vector per distinct word
        return w + spelled[b["wordIndex"]] + self.pe[: w.size(1)]  # (B, T, d)


class Tagger(nn.Module):
    def __init__(self, s, sizes):
        super().__init__()
        d = s["dModel"]
        self.input = TokenInput(d, sizes)
        self.encoder = encoder(s, d)
        self.head = nn.Linear(d, sizes["labels"])

    def forward(self, b):
        logits = self.head(self.encoder(self.input(b), src_key_padding_mask=b["pad"]))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), b["labels"].reshape(-1), ignore_index=-100)


class Classifier(Tagger):
    """The tagger's input, encoder and head shape; one label per sequence from the mean of the real positions."""

    def forward(self, b):
        h = self.encoder(self.input(b), src_key_padding_mask=b["pad"])  # (B, T, d)
        keep = (~b["pad"]).unsqueeze(-1).to(h.dtype)  # (B, T, 1): 1 at real positions
        logits = self.head((h * keep).sum(1) / keep.sum(1))  # mean of the real positions -> (B, labels)
        return F.cross_entropy(logits, b["labels"])


class ViT(nn.Module):
    def __init__(self, s, sizes):
        super().__init__()
        d, p = s["dModel"], s["patch"]
        side = s["side"] // p
        self.proj = nn.Conv2d(3, d, p, stride=p)  # = unfold2d (c, i, j order) then Linear(3 p p, d)
        self.row_pos = nn.Parameter(torch.randn(side, d) * 0.02)
        self.col_pos = nn.Parameter(torch.randn(side, d) * 0.02)
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.encoder = encoder(s, d)
        self.head = nn.Linear(d, sizes["labels"])

    def forward(self, b):
        x = b["images"]  # (B, 3, H, W)
        a = self.proj(x).flatten(2).transpose(1, 2)  # (B, L, d), patches row by row
        pos = (self.row_pos.unsqueeze(1) + self.col_pos.unsqueeze(0)).flatten(0, 1)  # (L, d): row_r + col_c
        h = self.encoder(torch.cat([self.cls_token.expand(x.size(0), -1, -1), a + pos], 1))  # (B, 1 + L, d)
        return F.cross_entropy(self.head(h[:, 0]), b["labels"])


class Speech(nn.Module):
    def __init__(self, s, sizes):
        super().__init__()
        d = s["dModel"]
        self.input = nn.Linear(s["dim"], d)
        self.register_buffer("pe", sinusoidal(5000, d))
        self.encoder = encoder(s, d)
        self.head = nn.Linear(d, sizes["labels"])

    def forward(self, b):
        x = b["frames"]  # (B, T, dim)
        a = self.input(x) + self.pe[: x.size(1)]
        logits = self.head(self.encoder(a, src_key_padding_mask=b["pad"]))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), b["labels"].reshape(-1), ignore_index=-100)


MODELS = {"seq2seq": Seq2Seq, "tagger": Tagger, "classify": Classifier, "vit": ViT, "speech": Speech}


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
    with torch.no_grad():  # the untrained model's loss on the first batch (dropout on, as in training)
        state["loss0"] = model(data[0]).item()

    def step():
        b = data[state["s"] % len(data)]
        state["s"] += 1
        loss = model(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state["loss"] = loss.item()

    ms = timed(step, r["warmup"], r["reps"], r.get("maxMs", float("inf")))
    return {"ms": ms, "loss": state["loss"], "loss0": state["loss0"], "params": sum(p.numel() for p in model.parameters())}


def main():
    mode = sys.argv[1]
    r = json.loads(sys.stdin.read() or "{}")
    torch.set_num_threads(int(r.get("threads", torch.get_num_threads())))
    torch.manual_seed(r.get("seed", 0))
    try:
        model = MODELS[mode](r["shape"], r["sizes"])
        out = train(r, model)
    except Exception as e:  # one JSON line, whatever happens
        print(json.dumps({"error": f"{type(e).__name__}: {e}".splitlines()[0]}))
        sys.exit(1)
    out["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
