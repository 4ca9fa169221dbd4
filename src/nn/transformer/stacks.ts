// Stacks of Transformer layers and the full encoder–decoder model (lecture §6), with
// torch.nn.TransformerEncoder / TransformerDecoder / Transformer names:
// encoder.layers.{i}.*, encoder.norm.*, decoder.layers.{i}.*, decoder.norm.*
import { checkOptions, optionKeys } from '../../core/options.js';
import { defaultGenerator } from '../../core/rng.js';
import { clone } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModuleList } from '../containers.js';
import { LayerNorm } from '../layers.js';
import { Module, ModuleError } from '../module.js';
import type { DecodingCache } from '../attention/decoding-cache.js';
import { causalMask } from '../attention/masks.js';
import {
  TransformerDecoderLayer, TransformerEncoderLayer, type DecoderLayerCall, type EncoderLayerCall, type LayerIntermediates, type TransformerLayerOptions,
} from './layers.js';

function layerCount(module: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) throw new ModuleError(module, `numLayers must be a positive integer, got ${n}`);
}

export class TransformerEncoder extends Module {
  readonly layers: ModuleList<TransformerEncoderLayer>;
  readonly norm: LayerNorm | null;

  /** numLayers layers made by `makeLayer(i)`; an optional final LayerNorm (needed with pre-LN). */
  constructor(makeLayer: (i: number) => TransformerEncoderLayer, numLayers: number, norm: LayerNorm | null = null) {
    super();
    layerCount('TransformerEncoder', numLayers);
    this.layers = this.module('layers', new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i))));
    this.norm = norm ? this.module('norm', norm) : null;
  }

  /** With `onAttention`, every layer hands it its self-attention's intermediates (for looking at them). */
  forward(src: Tensor, options: EncoderLayerCall & { onAttention?: ((layer: number, i: LayerIntermediates) => void) | null } = {}): Tensor {
    return tidy(() => {
      let x = src;
      const { onAttention: on, ...call } = options;
      this.layers.items.forEach((layer, i) => {
        if (!on) return void (x = layer.forward(x, call));
        const r = layer.inspect(x, call, false, true);
        on(i, r.intermediates!);
        x = r.output;
      });
      return this.norm ? this.norm.forward(x) : x === src ? clone(x) : x;
    });
  }
}

/** Sees each decoder layer's self-attention and cross-attention intermediates. */
export type DecoderRecorder = (layer: number, what: 'self' | 'cross', i: LayerIntermediates) => void;

export class TransformerDecoder extends Module {
  readonly layers: ModuleList<TransformerDecoderLayer>;
  readonly norm: LayerNorm | null;

  constructor(makeLayer: (i: number) => TransformerDecoderLayer, numLayers: number, norm: LayerNorm | null = null) {
    super();
    layerCount('TransformerDecoder', numLayers);
    this.layers = this.module('layers', new ModuleList(Array.from({ length: numLayers }, (_, i) => makeLayer(i))));
    this.norm = norm ? this.module('norm', norm) : null;
  }

  /** `caches[i]` is layer i's self-attention cache when decoding step by step; `onAttention` sees every layer's attentions. */
  forward(tgt: Tensor, memory: Tensor, options: Omit<DecoderLayerCall, 'cache' | 'onAttention'> & { caches?: DecodingCache[]; onAttention?: DecoderRecorder | null } = {}): Tensor {
    return tidy(() => {
      let x = tgt;
      const { onAttention: on, caches, ...call } = options;
      this.layers.items.forEach((layer, i) => { x = layer.forward(x, memory, { ...call, cache: caches?.[i] ?? null, onAttention: on && ((what, r) => on(i, what, r)) }); });
      return this.norm ? this.norm.forward(x) : x === tgt ? clone(x) : x;
    });
  }
}

export interface TransformerOptions extends TransformerLayerOptions {
  numEncoderLayers?: number;
  numDecoderLayers?: number;
}

/** torch.nn.Transformer: an encoder stack and a decoder stack, each with a final LayerNorm. */
export class Transformer extends Module {
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;

  constructor(readonly dModel = 512, readonly nhead = 8, options: TransformerOptions = {}) {
    super();
    checkOptions('Transformer', options, optionKeys<TransformerOptions>({ dimFeedforward: 1, dropout: 1, activation: 1, layerNormEps: 1, normFirst: 1, bias: 1, attention: 1, rope: 1, generator: 1, numEncoderLayers: 1, numDecoderLayers: 1 }));
    const { numEncoderLayers: _e, numDecoderLayers: _d, ...layer } = options;
    const o = { ...layer, generator: options.generator ?? defaultGenerator };
    const eps = options.layerNormEps ?? 1e-5;
    this.encoder = this.module('encoder', new TransformerEncoder(() => new TransformerEncoderLayer(dModel, nhead, o), options.numEncoderLayers ?? 6,
      new LayerNorm(dModel, { eps, bias: options.bias ?? true })));
    this.decoder = this.module('decoder', new TransformerDecoder(() => new TransformerDecoderLayer(dModel, nhead, o), options.numDecoderLayers ?? 6,
      new LayerNorm(dModel, { eps, bias: options.bias ?? true })));
  }

  /**
   * src (B, S, d), tgt (B, T, d) -> (B, T, d). As in PyTorch, nothing is masked unless asked:
   * pass tgtIsCausal (or tgtMask) for training, and memoryKeyPaddingMask to hide source padding.
   */
  forward(src: Tensor, tgt: Tensor, options: EncoderLayerCall & Omit<DecoderLayerCall, 'cache'> = {}): Tensor {
    return tidy(() => {
      const memory = this.encoder.forward(src, { srcMask: options.srcMask, srcKeyPaddingMask: options.srcKeyPaddingMask });
      return this.decoder.forward(tgt, memory, {
        tgtMask: options.tgtMask, memoryMask: options.memoryMask, tgtKeyPaddingMask: options.tgtKeyPaddingMask,
        memoryKeyPaddingMask: options.memoryKeyPaddingMask, tgtIsCausal: options.tgtIsCausal,
      });
    });
  }

  /** The (T, T) mask that keeps each target position from seeing later ones (1 = blocked). */
  static generateSquareSubsequentMask(T: number): Tensor {
    return causalMask(T);
  }
}
