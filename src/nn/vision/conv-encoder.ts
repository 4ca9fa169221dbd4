// The CNN image baseline (lecture: a CNN is self-attention with a small, fixed receptive field
// and weights shared across positions, which is why it needs less data): blocks of 3×3
// convolution (same padding) -> ReLU -> 2×2 max pooling, then the mean over what is left.
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { shapeStr } from '../../core/errors.js';
import { conv2d, maxPool2d } from '../../ops/conv2d.js';
import { mean } from '../../ops/reduce.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { uniform } from '../init.js';
import { ModuleList } from '../containers.js';
import { Module, ModuleError } from '../module.js';
import type { ImageShape } from './patch-encoder.js';

/** One Conv2d layer, torch.nn.Conv2d's names and default initialisation (kaiming-uniform bound 1/√fan_in). */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly padding: number, g: Generator) {
    super();
    const bound = 1 / Math.sqrt(inChannels * kernelSize * kernelSize);
    this.weight = this.param('weight', uniform([outChannels, inChannels, kernelSize, kernelSize], bound, g));
    this.bias = this.param('bias', uniform([outChannels], bound, g));
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { padding: this.padding });
  }
}

export interface ConvImageEncoderOptions extends ImageShape {
  /** Channels of every block, and the output size. */
  hidden?: number;
  /** conv -> ReLU -> pool blocks (each halves height and width). */
  layers?: number;
  generator?: Generator;
}

/** (B, C, H, W) images -> (B, hidden). State dict: convs.{i}.weight / convs.{i}.bias. */
export class ConvImageEncoder extends Module {
  readonly outDim: number;
  readonly convs: ModuleList<Conv2d>;

  constructor(readonly options: ConvImageEncoderOptions) {
    super();
    const { channels, height, width, hidden = 32, layers = 2 } = options;
    const g = options.generator ?? defaultGenerator;
    if (height % 2 ** layers || width % 2 ** layers) throw new ModuleError('ConvImageEncoder', `image ${height}×${width} cannot be halved ${layers} times`);
    this.outDim = hidden;
    this.convs = this.module('convs', new ModuleList(Array.from({ length: layers }, (_, i) => new Conv2d(i === 0 ? channels : hidden, hidden, 3, 1, g))));
  }

  forward(images: Tensor): Tensor {
    const { channels, height, width } = this.options;
    if (images.rank !== 4 || images.shape[1] !== channels || images.shape[2] !== height || images.shape[3] !== width) {
      throw new ModuleError('ConvImageEncoder', `images of shape ${shapeStr(images.shape)} must be (B, ${channels}, ${height}, ${width})`);
    }
    return tidy(() => {
      let h = images;
      for (const conv of this.convs) h = maxPool2d(conv.forward(h).relu(), 2); // (B, hidden, H/2^i, W/2^i)
      return mean(h, [2, 3]); // (B, hidden)
    });
  }
}
