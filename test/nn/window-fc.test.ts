// The windowed fully-connected tagger (WindowFCEncoder, lecture §3's "window of neighbours"):
// each output sees exactly its window, window 1 is the per-position FCEncoder, zeros beyond the
// ends and at padding, and bad windows are refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, ModuleError, nn, randn, tensor, tidy, type Tensor } from '../../src/index.js';

/** d output[b, t, :].sum() / d x, as a (T) array of absolute gradient sums per input position. */
function reach(enc: nn.WindowFCEncoder, x: Tensor, t: number, mask?: Tensor): number[] {
  return tidy(() => {
    const xs = x.detach().contiguous();
    xs.requiresGrad = true;
    enc.forward(xs, { keyPaddingMask: mask ?? null }).slice(1, t, t + 1).sum().backward();
    const g = xs.grad!.abs().sum(-1).toTypedArray();
    return Array.from(g.subarray(0, x.shape[1]!));
  });
}

test('each output of a window-w tagger depends on exactly the w positions around it', () => {
  const g = new Generator(3);
  for (const w of [1, 3, 5, 9]) {
    const enc = new nn.WindowFCEncoder({ inDim: 4, hidden: 8, window: w, layers: 2, generator: g });
    const x = randn([1, 12, 4], { generator: g });
    for (const t of [0, 5, 11]) {
      const r = reach(enc, x, t);
      r.forEach((v, j) => {
        const inside = Math.abs(j - t) <= (w - 1) / 2;
        assert.equal(v > 0, inside, `window ${w}, output ${t}, input ${j}: gradient ${v}`);
      });
    }
    x.dispose();
    enc.dispose();
  }
});

test('window 1 computes what FCEncoder computes with the same weights', () => {
  const g = new Generator(4);
  const w1 = new nn.WindowFCEncoder({ inDim: 3, hidden: 5, window: 1, layers: 2, generator: g });
  const fc = new nn.FCEncoder({ inDim: 3, hidden: 5, layers: 2, generator: g });
  fc.loadStateDict(new Map([...w1.stateDict()].map(([k, v]) => [k.replace(/^mlp\./, ''), v])));
  const x = randn([2, 6, 3], { generator: g });
  const a = w1.forward(x).toTypedArray();
  const b = fc.forward(x).toTypedArray();
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-6));
});

test('a window sees zeros past the ends and at padded positions, and state-dict names are mlp.layers.i', () => {
  const g = new Generator(5);
  const enc = new nn.WindowFCEncoder({ inDim: 2, hidden: 4, window: 3, generator: g });
  assert.deepEqual([...enc.stateDict().keys()], ['mlp.layers.0.weight', 'mlp.layers.0.bias']);
  assert.deepEqual(enc.stateDict().get('mlp.layers.0.weight')!.shape, [4, 6]);
  // sequence of length 3 padded to 4: the last real position must not see the padding's values
  const x = tensor([[[1, 2], [3, 4], [5, 6], [100, -100]]]);
  const mask = tensor([[0, 0, 0, 1]], { dtype: 'int32' });
  const short = tensor([[[1, 2], [3, 4], [5, 6]]]);
  const padded = enc.forward(x, { keyPaddingMask: mask }).toArray() as number[][][];
  const alone = enc.forward(short).toArray() as number[][][];
  for (let t = 0; t < 3; t++) padded[0]![t]!.forEach((v, i) => assert.ok(Math.abs(v - alone[0]![t]![i]!) < 1e-6));
  assert.deepEqual(padded[0]![3], [0, 0, 0, 0], 'padded outputs are zero');
  assert.equal(reach(enc, x, 2, mask)[3], 0, 'no gradient into a padded position');
});

test('bad windows and inputs are refused with the module named', () => {
  assert.throws(() => new nn.WindowFCEncoder({ inDim: 2, hidden: 4, window: 4 }), (e: unknown) => e instanceof ModuleError && /window must be odd/.test((e as Error).message));
  assert.throws(() => new nn.WindowFCEncoder({ inDim: 2, hidden: 4, window: 0 }), /window must be a positive integer/);
  const enc = new nn.WindowFCEncoder({ inDim: 2, hidden: 4, window: 3 });
  assert.throws(() => enc.forward(randn([1, 3, 5])), /WindowFCEncoder.*inDim = 2/);
});
