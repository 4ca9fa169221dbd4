// Conv1d: a 1-D convolution layer with torch.nn.Conv1d's names, layout and default init.
// x [batch, inChannels, length] -> [batch, outChannels, outLength]; weight [out, in/groups, k].
import { checkOptions, optionKeys } from '../core/options.js';
import { defaultGenerator } from '../core/rng.js';
import { shapeStr } from '../core/errors.js';
import { conv1d } from '../ops/conv.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniform } from './init.js';
import type { InitOptions } from './layers.js';
import { Module, ModuleError } from './module.js';

export interface Conv1dModuleOptions extends InitOptions {
  stride?: number;
  /** Zero padding on both sides, or 'same' (output length = input length; stride 1) or 'valid'. Default 0. */
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new ModuleError('Conv1d', `${name} must be a positive integer, got ${v}`);
}

/** torch.nn.Conv1d: weight and bias drawn from U(±1/sqrt(inChannels/groups * kernelSize)). */
export class Conv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number | 'same' | 'valid';
  readonly dilation: number;
  readonly groups: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, options: Conv1dModuleOptions = {}) {
    super();
    checkOptions('Conv1d', options, optionKeys<Conv1dModuleOptions>({ stride: 1, padding: 1, dilation: 1, groups: 1, bias: 1, generator: 1 }));
    positiveInt('inChannels', inChannels);
    positiveInt('outChannels', outChannels);
    positiveInt('kernelSize', kernelSize);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
    positiveInt('stride', this.stride);
    positiveInt('dilation', this.dilation);
    positiveInt('groups', this.groups);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new ModuleError('Conv1d', `groups = ${this.groups} must divide inChannels = ${inChannels} and outChannels = ${outChannels}`);
    }
    if (this.padding === 'same' && this.stride !== 1) throw new ModuleError('Conv1d', "padding = 'same' needs stride 1");
    const g = options.generator ?? defaultGenerator;
    const bound = 1 / Math.sqrt((inChannels / this.groups) * kernelSize);
    this.weight = this.param('weight', uniform([outChannels, inChannels / this.groups, kernelSize], bound, g));
    this.bias = this.param('bias', options.bias === false ? null : uniform([outChannels], bound, g));
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 3 || x.shape[1] !== this.inChannels) {
      throw new ModuleError('Conv1d', `input of shape ${shapeStr(x.shape)} must be [batch, inChannels = ${this.inChannels}, length]`);
    }
    return conv1d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}
