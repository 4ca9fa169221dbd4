// Parameter initialisation, PyTorch's defaults, from a seeded generator.
import { defaultGenerator, type Generator } from '../core/rng.js';
import { rand, randn } from '../ops/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/** U(-bound, bound): PyTorch's default for Linear and Conv1d (bound = 1/sqrt(fan_in)). */
export function uniform(shape: number[], bound: number, generator: Generator = defaultGenerator): Tensor {
  return rand(shape, { low: -bound, high: bound, generator });
}

/** N(0, std²). */
export function normal(shape: number[], std: number, generator: Generator = defaultGenerator): Tensor {
  return randn(shape, { std, generator });
}

/** Xavier/Glorot uniform (what nn.MultiheadAttention uses for in_proj_weight). */
export function xavierUniform(shape: number[], generator: Generator = defaultGenerator): Tensor {
  const [fanOut, fanIn] = [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)];
  return uniform(shape, Math.sqrt(6 / (fanIn + fanOut)), generator);
}
