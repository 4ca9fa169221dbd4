// Layer normalisation as one op: y = (x - mean) / sqrt(var + eps) * gamma + beta over the
// last axes given by normalizedShape (PyTorch's F.layer_norm), with a fused gradient.
import { OpError, shapeStr } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import type { Backend } from '../kernels/contract.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDtype, checkTensor, contiguousTensor, f32, ownerOf, release } from './util.js';

export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkTensor('layerNorm', x);
  checkDtype('layerNorm', x, 'float32');
  const n = normalizedShape.length;
  if (n === 0 || n > x.rank || normalizedShape.some((d, i) => d !== x.shape[x.rank - n + i])) {
    throw new OpError('layerNorm', `normalizedShape ${shapeStr(normalizedShape)} does not match the last dims of input ${shapeStr(x.shape)}`);
  }
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && p.shape.join() !== normalizedShape.join()) {
      throw new OpError('layerNorm', `${name} of shape ${shapeStr(p.shape)} does not match normalizedShape ${shapeStr(normalizedShape)}`);
    }
  }
  const cols = sizeOf(normalizedShape);
  const rows = cols ? x.size / cols : 0;
  const be = ownerOf('layerNorm', x, weight, bias);
  const y = Tensor.empty(x.shape, 'float32', be); // outputs first: allocating may grow the heap and detach views taken before
  const mean = Tensor.empty([rows], 'float32', be);
  const rstd = Tensor.empty([rows], 'float32', be);
  const [xc, wc, bc] = [contiguousTensor(x), weight ? contiguousTensor(weight) : null, bias ? contiguousTensor(bias) : null];
  kernel('LayerNorm', be)(f32(xc), wc && f32(wc), bc && f32(bc), rows, cols, eps, f32(y), f32(mean), f32(rstd));
  release(xc, x);
  release(wc, weight);
  release(bc, bias);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const out = record('layerNorm', inputs, y, (g, [x, mean, rstd, w], needs) => {
    const gbe = ownerOf('layerNorm', x, g);
    const dx = Tensor.empty(x!.shape, 'float32', gbe);
    const dw = weight && needs[1] ? zeros(normalizedShape, gbe) : null;
    const db = bias && needs[weight ? 2 : 1] ? zeros(normalizedShape, gbe) : null;
    const [xc, wc, gc] = [contiguousTensor(x!), w ? contiguousTensor(w) : null, contiguousTensor(g)];
    kernel('LayerNormGrad', gbe)(f32(xc), wc && f32(wc), f32(mean!), f32(rstd!), f32(gc), rows, cols, f32(dx), dw && f32(dw), db && f32(db));
    release(xc, x!);
    release(wc, w);
    release(gc, g);
    return [dx, ...(weight ? [dw] : []), ...(bias ? [db] : [])];
  }, [x, mean, rstd, ...(weight ? [weight] : [])]);
  mean.dispose();
  rstd.dispose();
  return out;
}

function zeros(shape: readonly number[], on: Backend): Tensor {
  const t = Tensor.empty(shape, 'float32', on);
  kernel('Fill', on)(t.buffer(), 0);
  return t;
}
