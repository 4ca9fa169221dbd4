// Positional encoding (lecture §4): self-attention alone has no notion of order, so a vector
// e^i is added to a^i (sinusoidal: hand-crafted; learned: a parameter per position), or the
// position rotates q and k (rotary, RoPE) so that q^i·k^j depends on i - j.
import { checkOptions, optionKeys } from '../../core/options.js';
import { OpError, shapeStr } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { tensor } from '../../ops/creation.js';
import { add, mul, neg } from '../../ops/elementwise.js';
import { concat } from '../../ops/join.js';
import { reshape, slice } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { normal } from '../init.js';
import { Module, ModuleError } from '../module.js';

function checkInput(module: string, x: Tensor, d: number, maxLen: number, offset: number): number {
  if (x.rank < 2 || x.shape[x.rank - 1] !== d) throw new ModuleError(module, `input of shape ${shapeStr(x.shape)} must end with (T, ${d})`);
  const T = x.shape[x.rank - 2]!;
  if (offset + T > maxLen) throw new ModuleError(module, `positions ${offset}..${offset + T - 1} exceed maxLen ${maxLen}`);
  return T;
}

/** e^i_{2j} = sin(i / 10000^{2j/d}), e^i_{2j+1} = cos(...), added to the input. */
export class SinusoidalPositionalEncoding extends Module {
  readonly pe: Tensor;

  constructor(readonly dModel: number, readonly maxLen = 5000) {
    super();
    if (!Number.isInteger(dModel) || dModel <= 0 || dModel % 2) throw new ModuleError('SinusoidalPositionalEncoding', `dModel must be a positive even integer, got ${dModel}`);
    const e = new Float32Array(maxLen * dModel);
    for (let i = 0; i < maxLen; i++) for (let j = 0; j < dModel; j += 2) {
      const angle = i / 10000 ** (j / dModel);
      e[i * dModel + j] = Math.sin(angle);
      e[i * dModel + j + 1] = Math.cos(angle);
    }
    this.pe = this.buffer('pe', tensor(e, { shape: [maxLen, dModel] }), false);
  }

  /** x (..., T, d) -> x + e^{offset..offset+T-1}. */
  forward(x: Tensor, offset = 0): Tensor {
    const T = checkInput('SinusoidalPositionalEncoding', x, this.dModel, this.maxLen, offset);
    return tidy(() => add(x, slice(this.pe, 0, offset, offset + T)));
  }
}

/** A learned vector per position (GPT's wpe), N(0, 0.02²) init. State dict key: "weight". */
export class LearnedPositionalEncoding extends Module {
  readonly weight: Tensor;

  constructor(readonly maxLen: number, readonly dModel: number, options: { generator?: Generator; std?: number } = {}) {
    super();
    checkOptions('LearnedPositionalEncoding', options, optionKeys<{ generator?: Generator; std?: number }>({ generator: 1, std: 1 }));
    this.weight = this.param('weight', normal([maxLen, dModel], options.std ?? 0.02, options.generator ?? defaultGenerator));
  }

  /** The position vectors for offset..offset+T-1, (T, d). */
  positions(T: number, offset = 0): Tensor {
    if (offset + T > this.maxLen) throw new ModuleError('LearnedPositionalEncoding', `positions ${offset}..${offset + T - 1} exceed maxLen ${this.maxLen}`);
    return slice(this.weight, 0, offset, offset + T);
  }

  forward(x: Tensor, offset = 0): Tensor {
    const T = checkInput('LearnedPositionalEncoding', x, this.dModel, this.maxLen, offset);
    return tidy(() => add(x, this.positions(T, offset)));
  }
}

/**
 * Rotary position embedding (Su et al., RoFormer), "rotate half" layout (GPT-NeoX / LLaMA):
 * x -> x·cos(iθ) + rotateHalf(x)·sin(iθ), θ_j = base^{-2j/d}, on q and k of each head.
 */
export class RotaryEmbedding extends Module {
  private cos: Tensor;
  private sin: Tensor;
  private cached = 0;

  constructor(readonly headDim: number, readonly base = 10000, initialLength = 2048) {
    super();
    if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2) throw new ModuleError('RotaryEmbedding', `headDim must be a positive even integer, got ${headDim}`);
    [this.cos, this.sin] = this.tables(initialLength);
  }

  private tables(n: number): [Tensor, Tensor] {
    const d = this.headDim;
    const c = new Float32Array(n * d);
    const s = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d / 2; j++) {
      const angle = i * this.base ** (-(2 * j) / d);
      c[i * d + j] = c[i * d + j + d / 2] = Math.cos(angle);
      s[i * d + j] = s[i * d + j + d / 2] = Math.sin(angle);
    }
    this.cached = n;
    return [this.buffer('cos', tensor(c, { shape: [n, d] }), false), this.buffer('sin', tensor(s, { shape: [n, d] }), false)];
  }

  /** x (B, H, T, headDim) at positions offset..offset+T-1 -> rotated, same shape. */
  apply(x: Tensor, offset = 0): Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.headDim) throw new OpError('RotaryEmbedding', `input of shape ${shapeStr(x.shape)} must be (B, H, T, ${this.headDim})`);
    const T = x.shape[2]!;
    if (offset + T > this.cached) {
      this.cos.dispose();
      this.sin.dispose();
      [this.cos, this.sin] = this.tables(Math.max(offset + T, 2 * this.cached));
    }
    const h = this.headDim / 2;
    return tidy(() => {
      const cos = reshape(slice(this.cos, 0, offset, offset + T), [1, 1, T, this.headDim]);
      const sin = reshape(slice(this.sin, 0, offset, offset + T), [1, 1, T, this.headDim]);
      const rotated = concat([neg(slice(x, 3, h)), slice(x, 3, 0, h)], 3); // rotateHalf(x) = [-x2, x1]
      return add(mul(x, cos), mul(rotated, sin));
    });
  }
}
