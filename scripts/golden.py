#!/usr/bin/env python3
"""Golden values for qkv's ops and optimizers, computed with PyTorch.

Writes test/fixtures/golden-ops.json and test/fixtures/golden-optim.json (relative to the
repository root, whatever the cwd), which test/ops/golden.test.ts and test/optim/optim.test.ts
replay through the engine; and test/fixtures/torch-written.safetensors with its sidecar
torch-written.json (expected values), which test/io/safetensors.test.ts reads.

Every case draws its inputs with a fixed seed in float32 (the engine's dtype), then runs
the reference in float64 on exactly those float32 values, so the stored outputs and
gradients are the exact answer for the stored inputs (up to float64 rounding). For each case
we store: the op and its options, the inputs (shape, dtype, flat values), a random upstream
gradient u for the output, the output, and d(sum(out * u))/d(input) for every float input.

The optimizer cases run torch.optim in float32 (the engine's dtype): for each case we store the
optimizer and its options, the initial values of two small parameters, and for each of 5 steps
the float32 gradient given to every parameter and the parameter values after that step.

The safetensors fixture holds small torch tensors of many dtypes (float32, float16, bfloat16,
float64, int64, int32, int16, int8, uint8, bool; 0-d, empty, subnormal, signed zero, inf and
nan values) and a __metadata__ entry. It is written with safetensors.torch.save_file when that
package is installed, else by hand with struct+json exactly as the format (and the reference
writer) lays it out: 8-byte little-endian header length, compact JSON header with __metadata__
first and tensors sorted by dtype (widest first) then name, padded with spaces to a multiple of
8 bytes, then the little-endian data, contiguous.

The module cases (golden-rnn.json, replayed by test/nn/baselines.test.ts) build torch.nn.GRU /
LSTM (batch_first) and torch.nn.Conv1d with torch's default init in float32, then run them in
float64 on exactly those values: we store the parameters (in named_parameters order, so the key
list is PyTorch's), the inputs (x, and h0/c0 where given), a random float32 upstream gradient for
every output (output, and hN/cN), the outputs, and d(sum over outputs of out * upstream)/d(every
input and parameter). A case with `lengths` runs a right-padded batch through
pack_padded_sequence / pad_packed_sequence.

The attention cases (golden-attention.json, replayed by test/nn/attention-parity.test.ts) build
torch.nn.MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer, Transformer
(batch_first, dropout 0) and nanoGPT's Block and GPT (written out below as in model.py) in float32,
move every parameter off its init, and store the state dict (PyTorch's names, buffers included),
the inputs (masks as int32 1 = blocked, or float32 additive), a random float32 upstream gradient
per output (GPT: none, its loss is backpropagated), the outputs, and the float64 reference's
gradients of every float input and every parameter. The reference runs in eval mode with
PyTorch's fused fast paths made to raise, so it is the regular (composite) path.

Run with:  npm run golden   (i.e. /usr/bin/python3 scripts/golden.py)
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'golden-ops.json')
OUT_OPTIM = os.path.join(ROOT, 'test', 'fixtures', 'golden-optim.json')
OUT_RNN = os.path.join(ROOT, 'test', 'fixtures', 'golden-rnn.json')
OUT_ST = os.path.join(ROOT, 'test', 'fixtures', 'torch-written.safetensors')
OUT_ST_JSON = os.path.join(ROOT, 'test', 'fixtures', 'torch-written.json')

CASES = []


def f32(*shape, low=None, high=None, away_from_zero=None):
    """float32 random values: standard normal, or uniform in [low, high)."""
    if low is not None:
        t = torch.rand(*shape, dtype=torch.float32) * (high - low) + low
    else:
        t = torch.randn(*shape, dtype=torch.float32)
    if away_from_zero is not None:
        # push values off the kinks (relu at 0 ...) so the gradient is well defined
        t = torch.where(t.abs() < away_from_zero, torch.sign(t) * away_from_zero + t, t)
    return t


def i32(values):
    return torch.tensor(values, dtype=torch.int32)


def flat(t):
    """Flat list of Python floats/ints. float32 values are exact as float64, so repr is exact."""
    t = t.detach().contiguous().reshape(-1)
    if t.dtype == torch.int32 or t.dtype == torch.int64:
        return [int(v) for v in t.tolist()]
    return [float(v) for v in t.double().tolist()]


def enc(t):
    return {'shape': list(t.shape), 'values': flat(t)}


def case(name, op, inputs, fn, options=None):
    """inputs: list of (name, float32-or-int32 tensor). fn(*float64 tensors) -> output."""
    torch.manual_seed(1000 + len(CASES))  # the upstream gradient gets its own seed per case
    ref_inputs = []
    for _, t in inputs:
        if t.dtype == torch.float32:
            ref_inputs.append(t.double().requires_grad_(True))
        else:
            ref_inputs.append(t.long())
    out = fn(*ref_inputs)
    upstream = torch.randn(tuple(out.shape), dtype=torch.float32)  # float32 so the engine gets it exactly
    out.backward(upstream.double())
    entry = {
        'name': name,
        'op': op,
        'options': options or {},
        'inputs': [
            {'name': n, 'dtype': 'int32' if t.dtype == torch.int32 else 'float32', **enc(t)}
            for n, t in inputs
        ],
        'upstream': enc(upstream),
        'output': enc(out),
        'grads': {
            n: enc(r.grad if r.grad is not None else torch.zeros_like(r))
            for (n, t), r in zip(inputs, ref_inputs)
            if t.dtype == torch.float32
        },
    }
    CASES.append(entry)


def seed(s):
    torch.manual_seed(s)


def build():
    # ---- elementwise binary, with broadcasting
    seed(1)
    case('add broadcast [2,3,4] + [3,1]', 'add', [('a', f32(2, 3, 4)), ('b', f32(3, 1))], lambda a, b: a + b)
    seed(2)
    case('mul broadcast [2,3,4] * [4]', 'mul', [('a', f32(2, 3, 4)), ('b', f32(4))], lambda a, b: a * b)
    seed(3)
    case('div [2,3,4] / [2,1,4]', 'div',
         [('a', f32(2, 3, 4)), ('b', f32(2, 1, 4, low=0.5, high=2.0))], lambda a, b: a / b)
    seed(4)
    case('pow tensor exponent', 'pow',
         [('a', f32(2, 3, 4, low=0.5, high=2.0)), ('b', f32(2, 3, 4, low=-1.5, high=2.5))],
         lambda a, b: torch.pow(a, b))
    seed(5)
    case('pow scalar exponent 2.5', 'pow_scalar', [('x', f32(2, 3, 4, low=0.2, high=2.0))],
         lambda x: torch.pow(x, 2.5), {'exponent': 2.5})

    # ---- elementwise unary
    seed(10)
    case('exp', 'exp', [('x', f32(2, 3, 4))], torch.exp)
    seed(11)
    case('log (positive inputs)', 'log', [('x', f32(2, 3, 4, low=0.1, high=3.0))], torch.log)
    seed(12)
    case('sqrt', 'sqrt', [('x', f32(2, 3, 4, low=0.1, high=3.0))], torch.sqrt)
    seed(13)
    case('tanh', 'tanh', [('x', f32(2, 3, 4))], torch.tanh)
    seed(14)
    case('sigmoid', 'sigmoid', [('x', f32(2, 3, 4))], torch.sigmoid)
    seed(15)
    case('relu', 'relu', [('x', f32(2, 3, 4, away_from_zero=0.05))], torch.relu)
    seed(16)
    x = f32(2, 3, 4) * 2
    case('gelu (erf)', 'gelu', [('x', x)], lambda x: F.gelu(x, approximate='none'), {'approximate': 'none'})
    case('gelu (tanh)', 'gelu', [('x', x)], lambda x: F.gelu(x, approximate='tanh'), {'approximate': 'tanh'})
    seed(17)
    x = f32(2, 3, 4, away_from_zero=0.05) * 2
    case('elu alpha=1', 'elu', [('x', x)], lambda x: F.elu(x, alpha=1.0), {'alpha': 1.0})
    case('elu alpha=0.5', 'elu', [('x', x)], lambda x: F.elu(x, alpha=0.5), {'alpha': 0.5})
    seed(18)
    case('softplus', 'softplus', [('x', f32(2, 3, 4) * 3)], F.softplus)

    # ---- reductions
    seed(20)
    case('sum axis 1 keepdim', 'sum', [('x', f32(2, 3, 4))], lambda x: x.sum(dim=1, keepdim=True),
         {'axes': 1, 'keepdim': True})
    seed(21)
    case('mean over axes [0, 2]', 'mean', [('x', f32(2, 3, 4))], lambda x: x.mean(dim=(0, 2)),
         {'axes': [0, 2], 'keepdim': False})
    seed(22)
    # a permutation of distinct values, so there are no ties
    x = (torch.randperm(24).float() * 0.25 - 3).reshape(2, 3, 4) + f32(2, 3, 4, low=0, high=0.1)
    case('max over axis 2 (no ties)', 'max', [('x', x)], lambda x: torch.amax(x, dim=2), {'axes': 2, 'keepdim': False})
    case('min over axis 0 keepdim (no ties)', 'min', [('x', x)], lambda x: torch.amin(x, dim=0, keepdim=True),
         {'axes': 0, 'keepdim': True})
    seed(23)
    case('var unbiased over axis 1', 'variance', [('x', f32(2, 3, 4))], lambda x: torch.var(x, dim=1, unbiased=True),
         {'axes': 1, 'keepdim': False, 'correction': 1})
    seed(24)
    case('var biased over axes [1, 2] keepdim', 'variance', [('x', f32(2, 3, 4))],
         lambda x: torch.var(x, dim=(1, 2), unbiased=False, keepdim=True),
         {'axes': [1, 2], 'keepdim': True, 'correction': 0})
    seed(25)
    case('cumsum axis 1', 'cumsum', [('x', f32(2, 3, 4))], lambda x: torch.cumsum(x, dim=1),
         {'axis': 1, 'reverse': False})
    seed(26)
    case('cumsum axis 2 reverse', 'cumsum', [('x', f32(2, 3, 4))],
         lambda x: torch.flip(torch.cumsum(torch.flip(x, [2]), dim=2), [2]), {'axis': 2, 'reverse': True})

    # ---- matmul
    seed(30)
    case('matmul broadcast batch [2,1,3,4] @ [3,4,5]', 'matmul', [('a', f32(2, 1, 3, 4)), ('b', f32(3, 4, 5))],
         torch.matmul)
    seed(31)
    case('matmul of transposed views a^T @ b^T', 'transpose_matmul', [('a', f32(2, 4, 3)), ('b', f32(2, 5, 4))],
         lambda a, b: torch.matmul(a.transpose(-2, -1), b.transpose(-2, -1)))
    seed(32)
    case('matmul of a permuted (non-contiguous) view', 'permute_matmul', [('a', f32(3, 2, 4)), ('b', f32(4, 5))],
         lambda a, b: torch.matmul(a.permute(1, 0, 2), b), {'perm': [1, 0, 2]})
    seed(33)
    case('linear x[2,3,4] W[5,4] b[5]', 'linear', [('x', f32(2, 3, 4)), ('w', f32(5, 4)), ('b', f32(5))], F.linear)

    # ---- softmax / layer norm
    seed(40)
    case('softmax axis 1 of [2,3,4]', 'softmax', [('x', f32(2, 3, 4) * 2)], lambda x: torch.softmax(x, dim=1),
         {'axis': 1})
    seed(41)
    case('log_softmax last axis', 'logSoftmax', [('x', f32(2, 3, 4) * 2)], lambda x: torch.log_softmax(x, dim=-1),
         {'axis': -1})
    seed(42)
    case('layer_norm over last dim with weight and bias', 'layerNorm',
         [('x', f32(2, 3, 4) * 2 + 1), ('weight', f32(4)), ('bias', f32(4))],
         lambda x, w, b: F.layer_norm(x, (4,), w, b, eps=1e-5), {'normalizedShape': [4], 'eps': 1e-5})
    seed(43)
    case('layer_norm over last two dims, no affine, eps 1e-3', 'layerNorm', [('x', f32(2, 3, 4))],
         lambda x: F.layer_norm(x, (3, 4), eps=1e-3), {'normalizedShape': [3, 4], 'eps': 1e-3})

    # ---- embedding / cross-entropy
    seed(50)
    ids = i32([[1, 0, 3, 1], [5, 2, 0, 1]])
    case('embedding with padding_idx 0 (repeated ids)', 'embedding', [('ids', ids), ('weight', f32(6, 4))],
         lambda i, w: F.embedding(i, w, padding_idx=0), {'paddingIdx': 0})
    seed(51)
    targets = i32([2, -1, 0, 4, 4, -1, 1])
    case('cross_entropy ignore_index=-1 label_smoothing=0.1 mean', 'crossEntropy',
         [('logits', f32(7, 5) * 2), ('targets', targets)],
         lambda x, t: F.cross_entropy(x, t, ignore_index=-1, label_smoothing=0.1, reduction='mean'),
         {'ignoreIndex': -1, 'labelSmoothing': 0.1, 'reduction': 'mean'})
    seed(52)
    targets = i32([3, 0, 1, 3, 2, 0])
    case('cross_entropy reduction none, label_smoothing=0.2', 'crossEntropy',
         [('logits', f32(6, 4) * 2), ('targets', targets)],
         lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2, reduction='none'),
         {'labelSmoothing': 0.2, 'reduction': 'none'})
    seed(53)
    targets = i32([1, -100, 2, 0, -100])
    case('cross_entropy default ignore_index -100, sum', 'crossEntropy',
         [('logits', f32(5, 3) * 2), ('targets', targets)],
         lambda x, t: F.cross_entropy(x, t, reduction='sum'), {'reduction': 'sum'})

    # ---- conv1d
    seed(60)
    case('conv1d padding=2 dilation=2 stride=1 with bias', 'conv1d',
         [('x', f32(2, 3, 8)), ('weight', f32(4, 3, 3)), ('bias', f32(4))],
         lambda x, w, b: F.conv1d(x, w, b, stride=1, padding=2, dilation=2),
         {'stride': 1, 'padding': 2, 'dilation': 2, 'groups': 1})
    seed(61)
    case('conv1d groups=2 stride=2 padding=1 no bias', 'conv1d',
         [('x', f32(2, 4, 9)), ('weight', f32(6, 2, 3))],
         lambda x, w: F.conv1d(x, w, None, stride=2, padding=1, groups=2),
         {'stride': 2, 'padding': 1, 'dilation': 1, 'groups': 2})

    # ---- shapes: pad, concat, stack
    seed(70)
    case('pad last two dims (1,2,0,1) value 0.5', 'pad', [('x', f32(2, 3, 4))],
         lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), {'pads': [1, 2, 0, 1], 'value': 0.5})
    seed(71)
    case('concat axis 1', 'concat', [('a', f32(2, 3, 2)), ('b', f32(2, 1, 2)), ('c', f32(2, 2, 2))],
         lambda a, b, c: torch.cat([a, b, c], dim=1), {'axis': 1})
    seed(72)
    case('stack axis 1', 'stack', [('a', f32(2, 3)), ('b', f32(2, 3)), ('c', f32(2, 3))],
         lambda a, b, c: torch.stack([a, b, c], dim=1), {'axis': 1})

    # ---- a small MLP: x[4,5] -> Linear(5,8) -> GELU(tanh) -> LayerNorm(8) -> Linear(8,3) -> CE
    seed(80)
    w1 = f32(8, 5) * (1 / 5 ** 0.5)
    b1 = f32(8) * 0.1
    gamma = 1 + f32(8) * 0.1
    beta = f32(8) * 0.1
    w2 = f32(3, 8) * (1 / 8 ** 0.5)
    b2 = f32(3) * 0.1
    x = f32(4, 5)
    targets = i32([0, 2, 1, 2])

    def mlp(x, w1, b1, gamma, beta, w2, b2, t):
        h = F.gelu(F.linear(x, w1, b1), approximate='tanh')
        h = F.layer_norm(h, (8,), gamma, beta, eps=1e-5)
        return F.cross_entropy(F.linear(h, w2, b2), t)

    case('MLP Linear-GELU(tanh)-LayerNorm-Linear-CE', 'mlp',
         [('x', x), ('w1', w1), ('b1', b1), ('gamma', gamma), ('beta', beta), ('w2', w2), ('b2', b2),
          ('targets', targets)], mlp)


OPTIM_CASES = []
OPTIM_STEPS = 5
OPTIM_SHAPES = [(3, 4), (4,)]


def optim_case(name, optimizer, options, make):
    """make(params) -> a torch.optim optimizer; options are the engine's (camelCase) options."""
    torch.manual_seed(2000 + len(OPTIM_CASES))
    params = [f32(*shape).requires_grad_(True) for shape in OPTIM_SHAPES]
    initial = [enc(p) for p in params]
    opt = make(params)
    steps = []
    for _ in range(OPTIM_STEPS):
        grads = [f32(*shape) for shape in OPTIM_SHAPES]
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
        steps.append({'grads': [enc(g) for g in grads], 'params': [enc(p) for p in params]})
    OPTIM_CASES.append({'name': name, 'optimizer': optimizer, 'options': options, 'params': initial, 'steps': steps})


def build_optim():
    optim = torch.optim
    optim_case('SGD lr 0.1', 'SGD', {'lr': 0.1}, lambda ps: optim.SGD(ps, lr=0.1))
    optim_case('SGD lr 0.1 momentum 0.9 dampening 0.1 weight_decay 0.01', 'SGD',
               {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.1, 'weightDecay': 0.01},
               lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01))
    optim_case('SGD lr 0.1 momentum 0.9 nesterov', 'SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True},
               lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
    # torch's Adam weight_decay is an L2 term added to the gradient, qkv's is decoupled: no decay here
    optim_case('Adam lr 1e-2', 'Adam', {'lr': 1e-2}, lambda ps: optim.Adam(ps, lr=1e-2))
    optim_case('AdamW lr 1e-2 betas (0.9, 0.95) eps 1e-6 weight_decay 0.1', 'AdamW',
               {'lr': 1e-2, 'betas': [0.9, 0.95], 'eps': 1e-6, 'weightDecay': 0.1},
               lambda ps: optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.1))


MODULE_CASES = []


def module_case(name, module, options, mod, inputs, run, lengths=None):
    """mod: a torch module in float32 (its init is the case's parameters); inputs: [(name, float32)];
    run(mod64, *float64 inputs) -> [(output name, tensor)]."""
    params = [(n, p.detach().clone()) for n, p in mod.named_parameters()]
    mod = mod.double()
    refs = [t.double().requires_grad_(True) for _, t in inputs]
    outs = run(mod, *refs)
    upstream = [(n, f32(*o.shape)) for n, o in outs]
    loss = sum((o * u.double()).sum() for (_, o), (_, u) in zip(outs, upstream))
    loss.backward()
    grads = {n: enc(r.grad) for (n, _), r in zip(inputs, refs)}
    grads.update({n: enc(p.grad) for n, p in mod.named_parameters()})
    MODULE_CASES.append({
        'name': name,
        'module': module,
        'options': options,
        'lengths': lengths,
        'params': [{'name': n, **enc(p)} for n, p in params],
        'inputs': [{'name': n, **enc(t)} for n, t in inputs],
        'upstream': {n: enc(u) for n, u in upstream},
        'outputs': {n: enc(o) for n, o in outs},
        'grads': grads,
    })


def rnn_case(name, kind, layers, bidirectional, with_state=False, lengths=None):
    B, T, D, H = 2, 5, 3, 4
    torch.manual_seed(3000 + len(MODULE_CASES))
    mod = getattr(torch.nn, kind)(D, H, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    dirs = 2 if bidirectional else 1
    inputs = [('x', f32(B, T, D))]
    if with_state:
        inputs.append(('h0', f32(layers * dirs, B, H)))
        if kind == 'LSTM':
            inputs.append(('c0', f32(layers * dirs, B, H)))

    def run(m, x, *state):
        xin = x
        if lengths is not None:
            xin = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True,
                                                          enforce_sorted=False)
        st = None if not state else state[0] if kind == 'GRU' else tuple(state)
        out, final = m(xin, st)
        if lengths is not None:
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
        if kind == 'LSTM':
            return [('output', out), ('hN', final[0]), ('cN', final[1])]
        return [('output', out), ('hN', final)]

    options = {'inputSize': D, 'hiddenSize': H, 'numLayers': layers, 'bidirectional': bidirectional}
    module_case(name, kind, options, mod, inputs, run, lengths)


def conv_case(name, cin, cout, k, length, stride=1, padding=0, dilation=1, groups=1, bias=True):
    torch.manual_seed(3000 + len(MODULE_CASES))
    mod = torch.nn.Conv1d(cin, cout, k, stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    options = {'inChannels': cin, 'outChannels': cout, 'kernelSize': k, 'stride': stride, 'padding': padding,
               'dilation': dilation, 'groups': groups, 'bias': bias}
    module_case(name, 'Conv1d', options, mod, [('x', f32(2, cin, length))], lambda m, x: [('output', m(x))])


def build_modules():
    rnn_case('GRU 1 layer', 'GRU', 1, False)
    rnn_case('GRU 1 layer bidirectional', 'GRU', 1, True)
    rnn_case('GRU 2 layers bidirectional with h0', 'GRU', 2, True, with_state=True)
    rnn_case('GRU 2 layers bidirectional, packed lengths [3, 5]', 'GRU', 2, True, lengths=[3, 5])
    rnn_case('LSTM 1 layer with (h0, c0)', 'LSTM', 1, False, with_state=True)
    rnn_case('LSTM 1 layer bidirectional', 'LSTM', 1, True)
    rnn_case('LSTM 2 layers bidirectional', 'LSTM', 2, True)
    rnn_case('LSTM 2 layers bidirectional with (h0, c0), packed lengths [5, 2]', 'LSTM', 2, True,
             with_state=True, lengths=[5, 2])
    conv_case("Conv1d 3->4 k3 padding 'same' dilation 2", 3, 4, 3, 8, padding='same', dilation=2)
    conv_case('Conv1d 4->6 k3 groups 2 stride 2 padding 1 no bias', 4, 6, 3, 9, stride=2, padding=1, groups=2,
              bias=False)


def write(path, doc, count):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(doc, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {count} cases to {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)')


def main():
    build()
    doc = {
        'about': 'Golden values from PyTorch (scripts/golden.py); float64 reference on float32 inputs. '
                 'grads[name] = d(sum(output * upstream)) / d(input).',
        'torch': torch.__version__,
        'cases': CASES,
    }
    write(OUT, doc, len(CASES))

    build_optim()
    write(OUT_OPTIM, {
        'about': 'Optimizer golden values from torch.optim in float32 (scripts/golden.py). Each case: the initial '
                 'params, then per step the gradient set on every param and the params after step().',
        'torch': torch.__version__,
        'steps': OPTIM_STEPS,
        'cases': OPTIM_CASES,
    }, len(OPTIM_CASES))

    build_modules()
    write(OUT_RNN, {
        'about': 'Module golden values from PyTorch (scripts/golden.py): torch.nn.GRU / LSTM (batch_first) and '
                 'torch.nn.Conv1d, float64 reference on float32 parameters and inputs. grads[name] = '
                 'd(sum over outputs of output * upstream) / d(input or parameter).',
        'torch': torch.__version__,
        'cases': MODULE_CASES,
    }, len(MODULE_CASES))


# ---- attention modules (golden-attention.json, replayed by test/nn/attention-parity.test.ts)
#
# torch.nn.MultiheadAttention (batch_first), TransformerEncoderLayer / TransformerDecoderLayer,
# nn.Transformer, and nanoGPT's Block and GPT (written out below as in nanoGPT's model.py). Each
# module is built in float32 with a fixed seed; every parameter is then moved off its init
# (biases and LayerNorm weights would otherwise be exactly 0 and 1, which hides mistakes). The state
# dict (float32, PyTorch's names and order, buffers included) is stored; the reference then runs
# in float64 on exactly those values, in eval mode with dropout 0, and never takes PyTorch's
# fused fast paths (they are replaced by functions that raise while the reference runs).

OUT_ATTN = os.path.join(ROOT, 'test', 'fixtures', 'golden-attention.json')
ATTN_CASES = []
FAST_PATHS = ['_native_multi_head_attention', '_transformer_encoder_layer_fwd', '_nested_tensor_from_mask',
              '_transformer_decoder_only_layer_fwd']


class NoFastPath:
    """While active, PyTorch's fused inference kernels raise instead of running."""

    def __enter__(self):
        self.saved = {n: getattr(torch, n) for n in FAST_PATHS if hasattr(torch, n)}
        for n in self.saved:
            def refuse(*args, _n=n, **kwargs):
                raise RuntimeError(f'fast path torch.{_n} was taken')
            setattr(torch, n, refuse)

    def __exit__(self, *exc):
        for n, f in self.saved.items():
            setattr(torch, n, f)


class NanoLayerNorm(torch.nn.Module):
    """nanoGPT's LayerNorm with an optional bias."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(ndim))
        self.bias = torch.nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class NanoCausalSelfAttention(torch.nn.Module):
    """nanoGPT's CausalSelfAttention on its explicit (non-flash) path, with the 'bias' mask buffer."""

    def __init__(self, config):
        super().__init__()
        assert config['n_embd'] % config['n_head'] == 0
        self.c_attn = torch.nn.Linear(config['n_embd'], 3 * config['n_embd'], bias=config['bias'])
        self.c_proj = torch.nn.Linear(config['n_embd'], config['n_embd'], bias=config['bias'])
        self.attn_dropout = torch.nn.Dropout(config['dropout'])
        self.resid_dropout = torch.nn.Dropout(config['dropout'])
        self.n_head = config['n_head']
        self.n_embd = config['n_embd']
        self.dropout = config['dropout']
        bs = config['block_size']
        self.register_buffer('bias', torch.tril(torch.ones(bs, bs)).view(1, 1, bs, bs))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class NanoMLP(torch.nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = torch.nn.Linear(config['n_embd'], 4 * config['n_embd'], bias=config['bias'])
        self.gelu = torch.nn.GELU()
        self.c_proj = torch.nn.Linear(4 * config['n_embd'], config['n_embd'], bias=config['bias'])
        self.dropout = torch.nn.Dropout(config['dropout'])

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class NanoBlock(torch.nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = NanoLayerNorm(config['n_embd'], bias=config['bias'])
        self.attn = NanoCausalSelfAttention(config)
        self.ln_2 = NanoLayerNorm(config['n_embd'], bias=config['bias'])
        self.mlp = NanoMLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class NanoGPT(torch.nn.Module):
    """nanoGPT's GPT (model.py): tied lm_head / wte, its init, logits at every position when targets are given."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = torch.nn.ModuleDict(dict(
            wte=torch.nn.Embedding(config['vocab_size'], config['n_embd']),
            wpe=torch.nn.Embedding(config['block_size'], config['n_embd']),
            drop=torch.nn.Dropout(config['dropout']),
            h=torch.nn.ModuleList([NanoBlock(config) for _ in range(config['n_layer'])]),
            ln_f=NanoLayerNorm(config['n_embd'], bias=config['bias']),
        ))
        self.lm_head = torch.nn.Linear(config['n_embd'], config['vocab_size'], bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config['n_layer']))

    def _init_weights(self, module):
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, torch.nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        assert t <= self.config['block_size']
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        tok_emb = self.transformer.wte(idx)
        pos_emb = self.transformer.wpe(pos)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :])
            loss = None
        return logits, loss


def attn_case(name, module, config, mod, inputs, run, call=None, objective=None, scale=None):
    """mod: a float32 torch module; inputs: [(name, kind, tensor)] with kind 'float' (float32, gets a
    gradient), 'mask' (bool, stored as int32 1 = blocked) or 'ids' (int, stored as int32);
    run(mod64, refs) -> [(output name, tensor)]. The gradient is of sum(output * upstream) over the
    outputs, or of the output named `objective` (a scalar loss) when given. scale(name, p) -> the
    stddev of the noise added to parameter `name` (default 0.2 for every parameter)."""
    torch.manual_seed(4000 + len(ATTN_CASES))
    with torch.no_grad():
        for n, p in mod.named_parameters():
            s = 0.2 if scale is None else scale(n, p)
            p.add_(s * torch.randn(p.shape, dtype=torch.float32))
    state = [(n, t.detach().clone()) for n, t in mod.state_dict().items()]
    mod = mod.double().eval()
    refs = {}
    for n, kind, t in inputs:
        if kind == 'float':
            refs[n] = t.double().requires_grad_(True)
        elif kind == 'mask':
            refs[n] = t.bool()
        else:
            refs[n] = t.long()
    with NoFastPath():
        outs = run(mod, refs)
    if objective is None:
        upstream = [(n, f32(*o.shape)) for n, o in outs]
        total = sum((o * u.double()).sum() for (_, o), (_, u) in zip(outs, upstream))
    else:
        upstream = []
        total = dict(outs)[objective]
    total.backward()
    ATTN_CASES.append({
        'name': name,
        'module': module,
        'config': config,
        'call': call or {},
        'state': {n: enc(t) for n, t in state},
        'inputs': [{'name': n, 'kind': kind, 'dtype': 'float32' if kind == 'float' else 'int32',
                    **enc(t.int() if t.dtype == torch.bool else t)} for n, kind, t in inputs],
        'objective': objective,
        'upstream': {n: enc(u) for n, u in upstream},
        'outputs': {n: enc(o) for n, o in outs},
        'inputGrads': {n: enc(refs[n].grad) for n, kind, _ in inputs if kind == 'float'},
        'paramGrads': {n: enc(p.grad) for n, p in mod.named_parameters()},
    })


def causal(L, S=None):
    return torch.triu(torch.ones(L, L if S is None else S, dtype=torch.bool), diagonal=1)


def right_padding(lengths, S):
    return torch.arange(S)[None, :] >= torch.tensor(lengths)[:, None]


def build_attention():
    B, L, S, E, H, FF = 2, 4, 5, 8, 2, 16
    mha = torch.nn.MultiheadAttention

    def mha_config(**kw):
        return {'embedDim': E, 'numHeads': H, 'dropout': 0, **kw}

    def self_run(**kw):
        return lambda m, r: [('output', m(r['x'], r['x'], r['x'], need_weights=False, **{
            k: r[v] for k, v in kw.items()})[0])]

    def cross_run(need_weights=False, average=True, **kw):
        def run(m, r):
            out, w = m(r['query'], r['key'], r['value'], need_weights=need_weights, average_attn_weights=average,
                       **{k: r[v] for k, v in kw.items()})
            return [('output', out)] + ([('weights', w)] if need_weights else [])
        return run

    def qkv(kd=E, vd=E, s=S):
        return [('query', 'float', f32(B, L, E)), ('key', 'float', f32(B, s, kd)), ('value', 'float', f32(B, s, vd))]

    torch.manual_seed(100)
    attn_case('MHA self-attention, no mask', 'MultiheadAttention', mha_config(), mha(E, H, batch_first=True),
              [('x', 'float', f32(B, L, E))], self_run(), {'needWeights': False})
    torch.manual_seed(101)
    attn_case('MHA cross-attention L=4 S=5', 'MultiheadAttention', mha_config(), mha(E, H, batch_first=True),
              qkv(), cross_run(), {'needWeights': False})
    torch.manual_seed(102)
    attn_case('MHA cross-attention with key_padding_mask (lengths 3, 5)', 'MultiheadAttention', mha_config(),
              mha(E, H, batch_first=True), qkv() + [('keyPaddingMask', 'mask', right_padding([3, 5], S))],
              cross_run(key_padding_mask='keyPaddingMask'), {'needWeights': False})
    torch.manual_seed(103)
    attn_case('MHA self-attention with bool causal attn_mask', 'MultiheadAttention', mha_config(),
              mha(E, H, batch_first=True), [('x', 'float', f32(B, L, E)), ('attnMask', 'mask', causal(L))],
              self_run(attn_mask='attnMask'), {'needWeights': False})
    torch.manual_seed(104)
    attn_case('MHA cross-attention with float additive attn_mask (L, S)', 'MultiheadAttention', mha_config(),
              mha(E, H, batch_first=True), qkv() + [('attnMask', 'float', f32(L, S) * 1.5)],
              cross_run(attn_mask='attnMask'), {'needWeights': False})
    torch.manual_seed(105)
    per_head = torch.rand(B * H, L, S) < 0.4
    for i in range(L):
        per_head[:, i, (i + 1) % S] = False  # every query keeps at least one key
    attn_case('MHA cross-attention with 3-d per-head bool attn_mask (B*H, L, S)', 'MultiheadAttention',
              mha_config(), mha(E, H, batch_first=True), qkv() + [('attnMask', 'mask', per_head)],
              cross_run(attn_mask='attnMask'), {'needWeights': False})
    torch.manual_seed(106)
    attn_case('MHA kdim=6 vdim=5 (separate q/k/v_proj_weight)', 'MultiheadAttention', mha_config(kdim=6, vdim=5),
              mha(E, H, batch_first=True, kdim=6, vdim=5), qkv(6, 5), cross_run(), {'needWeights': False})
    torch.manual_seed(107)
    attn_case('MHA need_weights, average_attn_weights=True, with key_padding_mask', 'MultiheadAttention',
              mha_config(), mha(E, H, batch_first=True),
              qkv() + [('keyPaddingMask', 'mask', right_padding([4, 2], S))],
              cross_run(True, True, key_padding_mask='keyPaddingMask'), {'needWeights': True, 'averageAttnWeights': True})
    torch.manual_seed(108)
    attn_case('MHA need_weights, average_attn_weights=False (per head), float attn_mask', 'MultiheadAttention',
              mha_config(), mha(E, H, batch_first=True), qkv() + [('attnMask', 'float', f32(L, S))],
              cross_run(True, False, attn_mask='attnMask'), {'needWeights': True, 'averageAttnWeights': False})
    torch.manual_seed(109)
    attn_case('MHA bias=False, causal self-attention', 'MultiheadAttention', mha_config(bias=False),
              mha(E, H, batch_first=True, bias=False), [('x', 'float', f32(B, L, E)), ('attnMask', 'mask', causal(L))],
              self_run(attn_mask='attnMask'), {'needWeights': False})

    # ---- encoder / decoder layers and the full Transformer (post-LN unless normFirst)
    def layer_config(activation, norm_first):
        return {'dModel': E, 'nhead': H, 'dimFeedforward': FF, 'dropout': 0, 'activation': activation,
                'layerNormEps': 1e-5, 'normFirst': norm_first}

    def enc_layer(activation, norm_first):
        return torch.nn.TransformerEncoderLayer(E, H, dim_feedforward=FF, dropout=0.0, activation=activation,
                                                batch_first=True, norm_first=norm_first)

    def dec_layer(activation, norm_first):
        return torch.nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, dropout=0.0, activation=activation,
                                                batch_first=True, norm_first=norm_first)

    def pick(r, **kw):
        return {k: r[v] for k, v in kw.items()}

    torch.manual_seed(200)
    attn_case('TransformerEncoderLayer post-LN relu', 'TransformerEncoderLayer', layer_config('relu', False),
              enc_layer('relu', False), [('src', 'float', f32(B, S, E))], lambda m, r: [('output', m(r['src']))])
    torch.manual_seed(201)
    attn_case('TransformerEncoderLayer pre-LN (norm_first) gelu with causal src_mask', 'TransformerEncoderLayer',
              layer_config('gelu', True), enc_layer('gelu', True),
              [('src', 'float', f32(B, S, E)), ('srcMask', 'mask', causal(S))],
              lambda m, r: [('output', m(r['src'], **pick(r, src_mask='srcMask')))])
    torch.manual_seed(202)
    attn_case('TransformerEncoderLayer post-LN relu with src_key_padding_mask', 'TransformerEncoderLayer',
              layer_config('relu', False), enc_layer('relu', False),
              [('src', 'float', f32(B, S, E)), ('srcKeyPaddingMask', 'mask', right_padding([5, 3], S))],
              lambda m, r: [('output', m(r['src'], **pick(r, src_key_padding_mask='srcKeyPaddingMask')))])
    torch.manual_seed(203)
    attn_case('TransformerDecoderLayer post-LN relu, causal tgt_mask, memory_key_padding_mask',
              'TransformerDecoderLayer', layer_config('relu', False), dec_layer('relu', False),
              [('tgt', 'float', f32(B, L, E)), ('memory', 'float', f32(B, S, E)), ('tgtMask', 'mask', causal(L)),
               ('memoryKeyPaddingMask', 'mask', right_padding([3, 5], S))],
              lambda m, r: [('output', m(r['tgt'], r['memory'], **pick(r, tgt_mask='tgtMask',
                                                                       memory_key_padding_mask='memoryKeyPaddingMask')))])
    torch.manual_seed(204)
    attn_case('TransformerDecoderLayer pre-LN gelu, tgt_key_padding_mask, float memory_mask',
              'TransformerDecoderLayer', layer_config('gelu', True), dec_layer('gelu', True),
              [('tgt', 'float', f32(B, L, E)), ('memory', 'float', f32(B, S, E)),
               ('tgtKeyPaddingMask', 'mask', right_padding([4, 2], L)), ('memoryMask', 'float', f32(L, S))],
              lambda m, r: [('output', m(r['tgt'], r['memory'], **pick(r, tgt_key_padding_mask='tgtKeyPaddingMask',
                                                                       memory_mask='memoryMask')))])
    torch.manual_seed(205)
    src_pad = right_padding([5, 3], S)
    attn_case('Transformer 2+2 layers, causal tgt_mask, src and memory key padding masks', 'Transformer',
              {**layer_config('relu', False), 'numEncoderLayers': 2, 'numDecoderLayers': 2},
              torch.nn.Transformer(E, H, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF, dropout=0.0,
                                   batch_first=True),
              [('src', 'float', f32(B, S, E)), ('tgt', 'float', f32(B, L, E)), ('tgtMask', 'mask', causal(L)),
               ('srcKeyPaddingMask', 'mask', src_pad), ('memoryKeyPaddingMask', 'mask', src_pad.clone())],
              lambda m, r: [('output', m(r['src'], r['tgt'], **pick(
                  r, tgt_mask='tgtMask', src_key_padding_mask='srcKeyPaddingMask',
                  memory_key_padding_mask='memoryKeyPaddingMask')))])

    # ---- nanoGPT. Its init (N(0, 0.02)) would make every activation tiny, so the noise added is
    # larger: 0.3 on weight matrices and embeddings, 0.2 on biases and LayerNorm weights.
    def gpt_scale(n, p):
        return 0.3 if p.dim() == 2 else 0.2

    def gpt_config(bias):
        return {'vocabSize': 11, 'blockSize': 8, 'nLayer': 2, 'nHead': 2, 'nEmbd': 8, 'dropout': 0, 'bias': bias}

    def nano(c):
        return {'vocab_size': c['vocabSize'], 'block_size': c['blockSize'], 'n_layer': c['nLayer'],
                'n_head': c['nHead'], 'n_embd': c['nEmbd'], 'dropout': 0.0, 'bias': c['bias']}

    torch.manual_seed(300)
    attn_case('nanoGPT Block (ln_1, causal attn, ln_2, mlp), T=6', 'GPTBlock', gpt_config(True),
              NanoBlock(nano(gpt_config(True))), [('x', 'float', f32(B, 6, E))],
              lambda m, r: [('output', m(r['x']))], scale=gpt_scale)
    T = 7
    for seed_, bias in ((301, True), (302, False)):
        torch.manual_seed(seed_)
        c = gpt_config(bias)
        idx = torch.randint(0, c['vocabSize'], (B, T), dtype=torch.int32)
        targets = torch.randint(0, c['vocabSize'], (B, T), dtype=torch.int32)
        targets[0, 2] = -1
        targets[1, 6] = -1

        def run(m, r):
            logits, loss = m(r['idx'], r['targets'])
            return [('logits', logits), ('loss', loss)]

        attn_case(f'nanoGPT GPT vocab 11, block 8, 2 layers, 2 heads, n_embd 8, bias={bias}', 'GPT', c,
                  NanoGPT(nano(c)), [('idx', 'ids', idx), ('targets', 'ids', targets)], run, objective='loss',
                  scale=gpt_scale)


def check_no_fast_path_guard():
    """The guard really intercepts PyTorch's fast paths: float32, eval, no grad takes them."""
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True).eval()
    with torch.no_grad(), NoFastPath():
        try:
            layer(torch.randn(2, 5, 8))
        except RuntimeError as e:
            assert 'fast path' in str(e), e
        else:
            raise AssertionError('the encoder layer fast path was not intercepted')


def write_attention():
    check_no_fast_path_guard()
    build_attention()
    write(OUT_ATTN, {
        'about': 'Attention module golden values from PyTorch (scripts/golden.py): torch.nn.MultiheadAttention, '
                 'TransformerEncoderLayer, TransformerDecoderLayer, Transformer (batch_first) and nanoGPT\'s Block / '
                 'GPT, float32 state dicts, float64 reference in eval mode with dropout 0 (no fast paths). Masks '
                 'are int32 (1 = blocked, PyTorch\'s True) or float32 (added). inputGrads / paramGrads = d(sum over '
                 'outputs of output * upstream) / d(input or parameter), or d(objective) when one is named.',
        'torch': torch.__version__,
        'cases': ATTN_CASES,
    }, len(ATTN_CASES))


# safetensors' Dtype order (the reference writer sorts tensors by dtype, descending, then name)
ST_DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']
ST_NAME = {torch.bool: 'BOOL', torch.uint8: 'U8', torch.int8: 'I8', torch.int16: 'I16', torch.float16: 'F16',
           torch.bfloat16: 'BF16', torch.int32: 'I32', torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64'}


def safetensors_fixture():
    """Tiny tensors of every dtype qkv reads, with the values it must decode them to."""
    inf, nan = float('inf'), float('nan')
    tensors = {
        'f32.values': torch.tensor([[3.14159265, -0.0, 1e-40, 3.4028234663852886e38], [-inf, inf, nan, -1.5]], dtype=torch.float32),
        'f32.scalar': torch.tensor(2.5, dtype=torch.float32),
        'f32.empty': torch.zeros(0, 3, dtype=torch.float32),
        # zero, -0, smallest and largest subnormal, smallest normal, max, 1/3, inf, nan, a negative subnormal
        'f16.values': torch.tensor([0.0, -0.0, 2 ** -24, 2 ** -14 - 2 ** -24, 2 ** -14, 65504.0, -65504.0, 1 / 3,
                                    inf, -inf, nan, -3 * 2 ** -24], dtype=torch.float16).reshape(3, 4),
        'f16.empty': torch.zeros(2, 0, dtype=torch.float16),
        'bf16.values': torch.tensor([1 / 3, -0.0, 3e38, 1e-40, inf, nan, -7.0, 1e-3], dtype=torch.bfloat16).reshape(2, 2, 2),
        'f64.values': torch.tensor([0.1, -2.5, 1e300, 1e-50, -0.0], dtype=torch.float64),
        'i64.values': torch.tensor([0, -1, 2 ** 31 - 1, -2 ** 31, 123456789, -987654321], dtype=torch.int64).reshape(2, 3),
        'i64.step': torch.tensor(1000, dtype=torch.int64),
        'i32.values': torch.tensor([[-7, 0], [2 ** 31 - 1, -2 ** 31]], dtype=torch.int32),
        'i16.values': torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16),
        'i8.values': torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        'u8.values': torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        'bool.mask': torch.tensor([True, False, True], dtype=torch.bool),
    }
    metadata = {'format': 'pt', 'written_by': 'scripts/golden.py', 'torch': torch.__version__}
    return tensors, metadata


def safetensors_bytes(tensors, metadata):
    """The file exactly per the format, as the reference writer lays it out (see the docstring)."""
    order = sorted(tensors, key=lambda n: (-ST_DTYPES.index(ST_NAME[tensors[n].dtype]), n))
    header, chunks, offset = {'__metadata__': metadata}, [], 0
    for name in order:
        t = tensors[name].contiguous()
        if t.dtype == torch.bfloat16:
            t = t.view(torch.int16)  # numpy has no bfloat16; the bits are what is stored
        a = t.numpy()
        data = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': ST_NAME[tensors[name].dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(chunks)


def expected_values(t):
    """What qkv must read: floats as float32 (exact for f16/bf16; inf/nan as strings), ints as ints."""
    t = t.contiguous().reshape(-1)
    if t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        out = []
        for v in t.float().double().tolist():
            out.append('nan' if math.isnan(v) else 'inf' if v == math.inf else '-inf' if v == -math.inf else v)
        return out
    return [int(v) for v in t.tolist()]



def write_safetensors_fixture():
    tensors, metadata = safetensors_fixture()
    try:
        from safetensors.torch import save_file
    except ImportError:
        save_file = None
    if save_file is not None:
        save_file(tensors, OUT_ST, metadata=metadata)
        writer = 'safetensors.torch.save_file'
    else:
        with open(OUT_ST, 'wb') as f:
            f.write(safetensors_bytes(tensors, metadata))
        writer = 'by hand with struct+json (safetensors package not installed)'
    sidecar = {
        'about': 'Expected contents of torch-written.safetensors (scripts/golden.py): every tensor as qkv reads it '
                 '(floats as float32 values, inf/nan as strings; integers as int32).',
        'torch': torch.__version__,
        'writer': writer,
        'metadata': metadata,
        'tensors': {n: {'dtype': ST_NAME[t.dtype], 'shape': list(t.shape), 'values': expected_values(t)} for n, t in tensors.items()},
    }
    with open(OUT_ST_JSON, 'w') as f:
        json.dump(sidecar, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {len(tensors)} tensors to {os.path.relpath(OUT_ST, ROOT)} ({os.path.getsize(OUT_ST)} bytes, {writer}) '
          f'and {os.path.relpath(OUT_ST_JSON, ROOT)} ({os.path.getsize(OUT_ST_JSON)} bytes)')


if __name__ == '__main__':
    main()
    write_attention()
    write_safetensors_fixture()
