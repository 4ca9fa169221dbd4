// The basic layers, with PyTorch's names and default initialisation.
import { checkOptions, optionKeys } from '../core/options.js';
import { defaultGenerator, type Generator } from '../core/rng.js';
import { shapeStr } from '../core/errors.js';
import { ones, zeros } from '../ops/creation.js';
import { dropout } from '../ops/dropout.js';
import { embedding } from '../ops/embedding.js';
import { contiguous } from '../ops/views.js';
import { layerNorm } from '../ops/layernorm.js';
import { linear } from '../ops/linalg.js';
import type { Tensor } from '../tensor/tensor.js';
import { fillRange } from '../ops/util.js';
import { normal, uniform } from './init.js';
import { Module, ModuleError } from './module.js';

export interface InitOptions {
  generator?: Generator;
}

function positiveInt(module: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ModuleError(module, `${name} must be a positive integer, got ${v}`);
}

/** y = x W^T + b, W: [out, in] (torch.nn.Linear). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  /** `weight`: share an existing [out, in] tensor instead of making one (weight tying). */
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: InitOptions & { bias?: boolean; weight?: Tensor } = {}) {
    super();
    checkOptions('Linear', options, optionKeys<InitOptions & { bias?: boolean; weight?: Tensor }>({ generator: 1, bias: 1, weight: 1 }));
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    const g = options.generator ?? defaultGenerator;
    const bound = 1 / Math.sqrt(inFeatures);
    if (options.weight && options.weight.shape.join() !== `${outFeatures},${inFeatures}`) {
      throw new ModuleError('Linear', `shared weight of shape ${shapeStr(options.weight.shape)} is not [${outFeatures}, ${inFeatures}]`);
    }
    this.weight = this.param('weight', options.weight ?? uniform([outFeatures, inFeatures], bound, g));
    this.bias = this.param('bias', options.bias === false ? null : uniform([outFeatures], bound, g));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new ModuleError('Linear', `input of shape ${shapeStr(x.shape)} has last dim ${x.shape[x.rank - 1]}, expected inFeatures = ${this.inFeatures}`);
    }
    return linear(x, this.weight, this.bias);
  }
}

/** A lookup table of vectors for int32 ids (torch.nn.Embedding, N(0,1) init). */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: InitOptions & { paddingIdx?: number } = {}) {
    super();
    checkOptions('Embedding', options, optionKeys<InitOptions & { paddingIdx?: number }>({ generator: 1, paddingIdx: 1 }));
    positiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    positiveInt('Embedding', 'embeddingDim', embeddingDim);
    const w = normal([numEmbeddings, embeddingDim], 1, options.generator ?? defaultGenerator);
    if (options.paddingIdx !== undefined) fillRange(w, 0, options.paddingIdx * embeddingDim, embeddingDim);
    this.paddingIdx = options.paddingIdx;
    this.weight = this.param('weight', w);
  }

  readonly paddingIdx: number | undefined;

  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight, this.paddingIdx);
  }
}

/** Layer normalisation over the last dims (torch.nn.LayerNorm). */
export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly normalizedShape: number[];

  constructor(normalizedShape: number | number[], options: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    checkOptions('LayerNorm', options, optionKeys<{ eps?: number; elementwiseAffine?: boolean; bias?: boolean }>({ eps: 1, elementwiseAffine: 1, bias: 1 }));
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((d) => positiveInt('LayerNorm', 'normalizedShape', d));
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = this.param('weight', affine ? ones(this.normalizedShape) : null);
    this.bias = this.param('bias', affine && options.bias !== false ? zeros(this.normalizedShape) : null);
  }

  readonly eps: number;

  forward(x: Tensor): Tensor {
    const n = this.normalizedShape.length;
    if (x.shape.slice(-n).join() !== this.normalizedShape.join()) {
      throw new ModuleError('LayerNorm', `input of shape ${shapeStr(x.shape)} does not end with normalizedShape ${shapeStr(this.normalizedShape)}`);
    }
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/**
 * Inverted dropout in training mode, identity in eval mode. Masks come from the default
 * generator unless one is given: the Trainer seeds, saves and restores it, so a resumed run
 * draws the same masks (models take their init generator for weights only).
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly generator: Generator = defaultGenerator) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ModuleError('Dropout', `p must be in [0, 1], got ${p}`);
  }

  /** In eval mode or with p = 0 the input comes back as a view (no copy, as torch.nn.Dropout returns its input). */
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return contiguous(x);
    return dropout(x, this.p, this.training, this.generator);
  }
}
