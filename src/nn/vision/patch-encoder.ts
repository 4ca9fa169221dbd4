// The Vision Transformer's view of an image (lecture: an image is a set of vectors): cut it
// into p×p patches, flatten each (unfold2d), project to dModel, add a 2-D position (a learned
// row vector plus a learned column vector, so patch (r, c) knows where it sits), prepend a
// learned class token, and run self-attention over the L = (H/p)(W/p) patches. The image's
// vector is the class token's output, or the mean over patches.
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { shapeStr } from '../../core/errors.js';
import { add } from '../../ops/elementwise.js';
import { concat } from '../../ops/join.js';
import { mean } from '../../ops/reduce.js';
import { unfold2d } from '../../ops/conv2d.js';
import { expand, reshape, select, unsqueeze } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Linear } from '../layers.js';
import { Module, ModuleError } from '../module.js';
import { normal } from '../init.js';
import { AttentionEncoder } from '../transformer/attention-encoder.js';
import type { AttentionKind } from '../attention/multihead.js';

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

export interface PatchEncoderOptions extends ImageShape {
  /** Patch side p (height and width must be multiples of it). */
  patch: number;
  dModel?: number;
  nhead?: number;
  layers?: number;
  dropout?: number;
  attention?: AttentionKind;
  /** 'cls': a learned class token's output (ViT); 'mean': the mean over patches. */
  pool?: 'cls' | 'mean';
  generator?: Generator;
}

/** (B, C, H, W) images -> (B, dModel). State dict: proj.*, row_pos, col_pos, cls_token, encoder.*. */
export class PatchEncoder extends Module {
  readonly outDim: number;
  readonly proj: Linear;
  readonly rowPos: Tensor;
  readonly colPos: Tensor;
  readonly clsToken: Tensor | null;
  readonly encoder: AttentionEncoder;
  readonly rows: number;
  readonly cols: number;

  constructor(readonly options: PatchEncoderOptions) {
    super();
    const { channels, height, width, patch, dModel = 64, nhead = 4, layers = 2, pool = 'cls' } = options;
    const g = options.generator ?? defaultGenerator;
    if (!Number.isInteger(patch) || patch < 1 || height % patch || width % patch) {
      throw new ModuleError('PatchEncoder', `image ${height}×${width} is not a whole number of ${patch}×${patch} patches`);
    }
    this.rows = height / patch;
    this.cols = width / patch;
    this.outDim = dModel;
    this.proj = this.module('proj', new Linear(channels * patch * patch, dModel, { generator: g }));
    this.rowPos = this.param('row_pos', normal([this.rows, dModel], 0.02, g));
    this.colPos = this.param('col_pos', normal([this.cols, dModel], 0.02, g));
    this.clsToken = this.param('cls_token', pool === 'cls' ? normal([1, 1, dModel], 0.02, g) : null);
    this.encoder = this.module('encoder', new AttentionEncoder({
      inDim: dModel, dModel, nhead, layers, dropout: options.dropout ?? 0.1, attention: options.attention ?? 'softmax', pos: 'none', generator: g,
    }));
  }

  /** The sequence self-attention reads: (B, C, H, W) -> (B, [1 +] L, D), the class token first when pooled by it. */
  embed(images: Tensor): Tensor {
    const { channels, height, width, patch } = this.options;
    if (images.rank !== 4 || images.shape[1] !== channels || images.shape[2] !== height || images.shape[3] !== width) {
      throw new ModuleError('PatchEncoder', `images of shape ${shapeStr(images.shape)} must be (B, ${channels}, ${height}, ${width})`);
    }
    return tidy(() => {
      const B = images.shape[0]!;
      const D = this.outDim;
      const a = this.proj.forward(unfold2d(images, patch)); // (B, L, D), patches row by row
      const pos = reshape(add(unsqueeze(this.rowPos, 1), unsqueeze(this.colPos, 0)), [this.rows * this.cols, D]); // (L, D): e(r, c) = row_r + col_c
      const withPos = add(a, pos);
      return this.clsToken ? concat([expand(this.clsToken, [B, 1, D]), withPos], 1) : withPos; // (B, 1 + L, D)
    });
  }

  forward(images: Tensor): Tensor {
    return tidy(() => {
      const h = this.encoder.forward(this.embed(images)); // (B, 1 + L, D)
      return this.clsToken ? select(h, 1, 0) : mean(h, 1); // (B, D)
    });
  }
}
