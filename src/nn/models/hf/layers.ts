// The two projections of Hugging Face models, each able to carry a LoRA adapter:
//   Conv1D  GPT-2's projection, weight [in, out] (y = x W + b): transformers.pytorch_utils.Conv1D
//   Dense   torch.nn.Linear, weight [out, in] (BERT, ViT, Whisper)
// An adapter adds lora_A.weight [r, in] and lora_B.weight [out, r] under the layer's own name,
// as PEFT names them (…c_attn.lora_A.weight), and y += (dropout(x) Aᵀ Bᵀ) · scaling.
import { defaultGenerator, type Generator } from '../../../core/rng.js';
import { zeros } from '../../../ops/creation.js';
import { add, addToFresh, mul } from '../../../ops/elementwise.js';
import { linear, matmul } from '../../../ops/linalg.js';
import { transpose } from '../../../ops/views.js';
import { assign, fill_ } from '../../../ops/inplace.js';
import { noGrad, tidy } from '../../../tensor/engine.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { normal } from '../../init.js';
import { Dropout, Linear } from '../../layers.js';
import { Module, ModuleError } from '../../module.js';

/**
 * d(x), or x itself where dropout is the identity (eval mode, or p = 0): Dropout.forward then
 * returns a copy of x of its own, a pass over the activations for nothing here.
 */
export function dropped(d: Dropout, x: Tensor): Tensor {
  return d.training && d.p > 0 ? d.forward(x) : x;
}

export interface LoraOptions {
  /** The rank r of the update B·A. */
  r: number;
  /** lora_alpha: the update is scaled by alpha / r (alpha / sqrt(r) with rslora). */
  alpha: number;
  /** Dropout on the adapter's input (training only). */
  dropout?: number;
  rslora?: boolean;
  generator?: Generator;
}

/** What both projections share: an optional adapter. */
export abstract class Adaptable extends Module {
  lora_A: Linear | null = null;
  lora_B: Linear | null = null;
  private loraDropout: Dropout | null = null;
  loraScaling = 0;

  abstract readonly inFeatures: number;
  abstract readonly outFeatures: number;
  abstract readonly weight: Tensor;
  abstract readonly bias: Tensor | null;

  /**
   * Adds a LoRA adapter as PEFT initialises it: A kaiming-uniform (a = √5, i.e. U(±1/√in),
   * torch.nn.Linear's default), B zero, so the model is unchanged until B learns.
   */
  addLora(o: LoraOptions): void {
    if (this.lora_A) throw new ModuleError(this.kind, 'already has a LoRA adapter');
    if (!Number.isInteger(o.r) || o.r <= 0) throw new ModuleError(this.kind, `LoRA rank r must be a positive integer, got ${o.r}`);
    if (!(o.alpha > 0)) throw new ModuleError(this.kind, `lora_alpha must be > 0, got ${o.alpha}`);
    const g = o.generator ?? defaultGenerator;
    this.lora_A = this.module('lora_A', new Linear(this.inFeatures, o.r, { bias: false, generator: g }));
    this.lora_B = this.module('lora_B', new Linear(o.r, this.outFeatures, { bias: false, generator: g }));
    noGrad(() => fill_(this.lora_B!.weight, 0)); // through a kernel: the weights may live on a device
    this.loraDropout = this.module('lora_dropout', new Dropout(o.dropout ?? 0));
    this.loraScaling = o.rslora ? o.alpha / Math.sqrt(o.r) : o.alpha / o.r;
    for (const m of [this.lora_A, this.lora_B, this.loraDropout]) m.train(this.training); // a model in eval mode stays in it
  }

  /** B·A·scaling in this layer's weight layout. */
  protected abstract delta(): Tensor;

  /** Folds the adapter into the weight (W += ΔW) and removes it. */
  mergeLora(): void {
    if (!this.lora_A) return;
    noGrad(() => tidy(() => assign(this.weight, add(this.weight, this.delta()))));
    this.removeLora();
  }

  /** Drops the adapter (the weight stays as it is). */
  removeLora(): void {
    for (const name of ['lora_A', 'lora_B', 'lora_dropout']) this.unregister(name)?.dispose();
    this.lora_A = this.lora_B = null;
    this.loraDropout = null;
  }

  /**
   * base(x) + lora_B(lora_A(dropout(x)) · scaling). The scaling goes on the r-wide product and
   * dropout is skipped where it is the identity, so the adapter keeps only (…, r)-sized values
   * for backward (a clone of x and an (…, out) product per layer would cost more than the adapter).
   */
  protected adapted(x: Tensor, base: Tensor): Tensor {
    if (!this.lora_A) return base;
    return tidy(() => {
      const xin = dropped(this.loraDropout!, x);
      return addToFresh(base, this.lora_B!.forward(mul(this.lora_A!.forward(xin), this.loraScaling))); // base: the caller's own product
    });
  }
}

/** GPT-2's Conv1D: weight [in, out], y = x W + b (N(0, 0.02) init, as transformers). */
export class Conv1D extends Adaptable {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly inFeatures: number, readonly outFeatures: number, g: Generator = defaultGenerator) {
    super();
    this.weight = this.param('weight', normal([inFeatures, outFeatures], 0.02, g));
    this.bias = this.param('bias', zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) throw new ModuleError('Conv1D', `input's last dim is ${x.shape[x.rank - 1]}, expected ${this.inFeatures}`);
    // (…, in) @ (in, out) + bias: linear on Wᵀ, whose own transpose is the weight as stored, so the bias goes into the product's call
    return tidy(() => this.adapted(x, linear(x, transpose(this.weight), this.bias)));
  }

  protected delta(): Tensor {
    // PEFT's fan_in_fan_out: the weight is [in, out], so ΔW = (B A)ᵀ
    return mul(transpose(matmul(this.lora_B!.weight, this.lora_A!.weight)), this.loraScaling);
  }
}

/** torch.nn.Linear with Hugging Face's names (weight [out, in]). */
export class Dense extends Adaptable {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, o: { bias?: boolean; generator?: Generator } = {}) {
    super();
    const g = o.generator ?? defaultGenerator;
    this.weight = this.param('weight', normal([outFeatures, inFeatures], 0.02, g));
    this.bias = this.param('bias', o.bias === false ? null : zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) throw new ModuleError('Linear', `input's last dim is ${x.shape[x.rank - 1]}, expected ${this.inFeatures}`);
    return tidy(() => this.adapted(x, linear(x, this.weight, this.bias)));
  }

  protected delta(): Tensor {
    return mul(matmul(this.lora_B!.weight, this.lora_A!.weight), this.loraScaling);
  }
}
