// A decoder-only Transformer (GPT) laid out exactly like nanoGPT's model.py, so a nanoGPT
// checkpoint converted to safetensors loads unchanged:
//   transformer.wte.weight, transformer.wpe.weight, transformer.h.{i}.ln_1.{weight,bias},
//   transformer.h.{i}.attn.c_attn.{weight,bias}, transformer.h.{i}.attn.c_proj.{weight,bias},
//   transformer.h.{i}.ln_2.*, transformer.h.{i}.mlp.c_fc.*, transformer.h.{i}.mlp.c_proj.*,
//   transformer.ln_f.*, lm_head.weight (tied to transformer.wte.weight).
import { checkOptions, optionKeys } from '../../core/options.js';
import { shapeStr } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { arange } from '../../ops/creation.js';
import { add, gelu } from '../../ops/elementwise.js';
import { split } from '../../ops/join.js';
import { crossEntropy } from '../../ops/loss.js';
import { permute, reshape } from '../../ops/views.js';
import { noGrad, tidy } from '../../tensor/engine.js';
import { assign, fill_ } from '../../ops/inplace.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModuleList } from '../containers.js';
import { normal } from '../init.js';
import { Dropout, Embedding, LayerNorm, Linear } from '../layers.js';
import { Module, ModuleError, type LoadResult, type StateDict } from '../module.js';
import { cachedLength, type DecodingCache } from '../attention/decoding-cache.js';
import { KVCache } from '../attention/kv-cache.js';
import { flashAttentionEnabled } from '../attention/scaled-dot-product.js';
import { flashAttentionPacked } from '../../ops/flash-attention.js';
import type { AttentionKind } from '../attention/multihead.js';
import { attendWith, attentionKind, softmaxAttention, type AttentionKindDef } from '../attention/kinds/index.js';
import type { LayerIntermediates } from '../transformer/layers.js';

export interface GPTConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout?: number;
  /** Biases in Linear and LayerNorm (nanoGPT's `bias`, default true like GPT-2). */
  bias?: boolean;
  /** A registered attention kind: softmax (GPT's), relu, additive, linear ("Transformers are RNNs"). */
  attention?: AttentionKind;
  generator?: Generator;
}

/** nanoGPT's CausalSelfAttention: c_attn makes q, k, v for all heads at once; c_proj mixes them. */
class CausalSelfAttention extends Module {
  readonly c_attn: Linear;
  readonly c_proj: Linear;
  readonly resid_dropout: Dropout;
  private readonly attention: AttentionKindDef;
  /** The attention kind's own parameters (e.g. additive_w), by state-dict name. */
  readonly kindParams: Readonly<Record<string, Tensor>>;

  constructor(readonly c: Required<Omit<GPTConfig, 'generator'>>, g: Generator) {
    super();
    this.attention = attentionKind(c.attention, 'GPT');
    this.c_attn = this.module('c_attn', new Linear(c.nEmbd, 3 * c.nEmbd, { bias: c.bias, generator: g }));
    this.c_proj = this.module('c_proj', new Linear(c.nEmbd, c.nEmbd, { bias: c.bias, generator: g }));
    // attention dropout (nanoGPT's attn_dropout) is applied to alpha' by the attention kind
    this.resid_dropout = this.module('resid_dropout', new Dropout(c.dropout));
    this.kindParams = this.attention.params?.(c.nHead, c.nEmbd / c.nHead, g) ?? {};
    for (const [name, t] of Object.entries(this.kindParams)) this.param(name, t);
  }

  /** Additive attention's w (nh, hs), or null for the other kinds. */
  get additive_w(): Tensor | null {
    return this.kindParams.additive_w ?? null;
  }

  /** With `onAttention`, hands it this call's a, q, k, v, alpha, alpha' and b (weights formed: the naive path). */
  forward(x: Tensor, cache: DecodingCache | null, onAttention?: (i: LayerIntermediates) => void): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.c.nHead;
    return tidy(() => {
      // decoding one token on a KV cache: append and attend in one kernel call (kv-cache.ts)
      if (cache instanceof KVCache && T === 1 && !onAttention && this.attention === softmaxAttention && !(this.training && this.c.dropout > 0)) {
        const y = cache.step(this.c_attn.forward(x), nh); // (B, 1, C), or null where the fused step does not apply
        if (y) return this.resid_dropout.forward(this.c_proj.forward(y));
      }
      // no cache and nothing that needs the weights: the fused kernel reads q, k, v from one
      // permuted copy of c_attn's output (3, B, nh, T, hs), and its gradient is one buffer
      // (attention dropout inside the kernel: its counter-based mask needs no weights matrix)
      if (!cache && !onAttention && this.attention === softmaxAttention && flashAttentionEnabled()) {
        const b = flashAttentionPacked(permute(reshape(this.c_attn.forward(x), [B, T, 3, nh, C / nh]), [2, 0, 3, 1, 4]),
          { causal: true, dropout: this.training ? this.c.dropout : 0 });
        return this.resid_dropout.forward(this.c_proj.forward(reshape(permute(b, [0, 2, 1, 3]), [B, T, C])));
      }
      const heads = (t: Tensor) => permute(reshape(t, [B, T, nh, C / nh]), [0, 2, 1, 3]); // (B, nh, T, hs)
      const [q, k, v] = split(this.c_attn.forward(x), C, 2).map(heads) as [Tensor, Tensor, Tensor];
      // causal as a flag: with a cache of S - T past positions, query i sits at key position
      // i + S - T. Softmax attention runs fused (FlashAttention, no (T, S) weights) when nothing
      // asks for the weights; linear attention runs as an RNN over its state.
      const r = attendWith(this.attention, {
        q, k, v, causal: true, window: null, cache, needWeights: !!onAttention, returnScores: !!onAttention, dropout: this.c.dropout,
        training: this.training, params: this.kindParams, module: 'GPT',
      });
      const b = r.b; // (B, nh, T, hs)
      // k and v as attended: with a cache, every cached position
      onAttention?.({ a: x, q, k: r.k ?? k, v: r.v ?? v, alpha: r.alpha ?? null, alphaPrime: r.alphaPrime, b });
      const y = reshape(permute(b, [0, 2, 1, 3]), [B, T, C]); // re-assemble all head outputs side by side
      return this.resid_dropout.forward(this.c_proj.forward(y));
    });
  }
}

class MLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  readonly dropout: Dropout;

  constructor(c: Required<Omit<GPTConfig, 'generator'>>, g: Generator) {
    super();
    this.c_fc = this.module('c_fc', new Linear(c.nEmbd, 4 * c.nEmbd, { bias: c.bias, generator: g }));
    this.c_proj = this.module('c_proj', new Linear(4 * c.nEmbd, c.nEmbd, { bias: c.bias, generator: g }));
    this.dropout = this.module('dropout', new Dropout(c.dropout));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => this.dropout.forward(this.c_proj.forward(gelu(this.c_fc.forward(x)))));
  }
}

class Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: CausalSelfAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;

  constructor(c: Required<Omit<GPTConfig, 'generator'>>, g: Generator) {
    super();
    this.ln_1 = this.module('ln_1', new LayerNorm(c.nEmbd, { bias: c.bias }));
    this.attn = this.module('attn', new CausalSelfAttention(c, g));
    this.ln_2 = this.module('ln_2', new LayerNorm(c.nEmbd, { bias: c.bias }));
    this.mlp = this.module('mlp', new MLP(c, g));
  }

  /** Pre-LN residual block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
  forward(x: Tensor, cache: DecodingCache | null, onAttention?: (i: LayerIntermediates) => void): Tensor {
    return tidy(() => {
      const h = add(x, this.attn.forward(this.ln_1.forward(x), cache, onAttention));
      return add(h, this.mlp.forward(this.ln_2.forward(h)));
    });
  }
}

class GPTBody extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: ModuleList<Block>;
  readonly ln_f: LayerNorm;

  constructor(c: Required<Omit<GPTConfig, 'generator'>>, g: Generator) {
    super();
    this.wte = this.module('wte', new Embedding(c.vocabSize, c.nEmbd, { generator: g }));
    this.wpe = this.module('wpe', new Embedding(c.blockSize, c.nEmbd, { generator: g }));
    this.drop = this.module('drop', new Dropout(c.dropout));
    this.h = this.module('h', new ModuleList(Array.from({ length: c.nLayer }, () => new Block(c, g))));
    this.ln_f = this.module('ln_f', new LayerNorm(c.nEmbd, { bias: c.bias }));
  }
}

export class GPT extends Module {
  readonly config: Required<Omit<GPTConfig, 'generator'>>;
  readonly transformer: GPTBody;
  readonly lm_head: Linear;

  constructor(config: GPTConfig) {
    super();
    checkOptions('GPT', config, optionKeys<GPTConfig>({ vocabSize: 1, blockSize: 1, nLayer: 1, nHead: 1, nEmbd: 1, dropout: 1, bias: 1, attention: 1, generator: 1 }));
    const c = { dropout: 0, bias: true, attention: 'softmax' as AttentionKind, ...config };
    delete (c as GPTConfig).generator;
    for (const k of ['vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd'] as const) {
      if (!Number.isInteger(c[k]) || c[k] <= 0) throw new ModuleError('GPT', `${k} must be a positive integer, got ${c[k]}`);
    }
    if (c.nEmbd % c.nHead) throw new ModuleError('GPT', `nHead (${c.nHead}) must divide nEmbd (${c.nEmbd})`);
    attentionKind(c.attention, 'GPT'); // a clear error for an unknown kind, before any parameter is made
    this.config = c;
    const g = config.generator ?? defaultGenerator;
    this.transformer = this.module('transformer', new GPTBody(c, g));
    // weight tying: the output projection is the token embedding (one tensor, two names)
    this.lm_head = this.module('lm_head', new Linear(c.nEmbd, c.vocabSize, { bias: false, weight: this.transformer.wte.weight }));
    this.initWeights(g);
  }

  /** nanoGPT's init: N(0, 0.02) weights and embeddings, zero biases, c_proj scaled by 1/sqrt(2·nLayer). */
  private initWeights(g: Generator): void {
    noGrad(() => {
      for (const [name, p] of this.namedParameters()) {
        if (name.endsWith('.bias') && !name.includes('ln_')) fill_(p, 0);
        else if (name.endsWith('.weight') && !name.includes('ln_')) {
          const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * this.config.nLayer) : 0.02;
          const fresh = normal([...p.shape], std, g);
          assign(p, fresh);
          fresh.dispose();
        }
      }
    });
  }

  /**
   * idx (B, T) int32 token ids -> logits (B, T, vocab), and the mean cross-entropy when
   * targets (B, T) are given (-1 targets are ignored, as nanoGPT). With `caches` (one per
   * layer), positions continue after what the caches hold: step-by-step generation. With
   * `onAttention`, every layer hands it its attention's intermediates (for looking at them).
   */
  forward(idx: Tensor, options: { targets?: Tensor | null; caches?: DecodingCache[] | null; onAttention?: (layer: number, i: LayerIntermediates) => void } = {}): { logits: Tensor; loss: Tensor | null } {
    if (idx.rank !== 2 || idx.dtype !== 'int32') throw new ModuleError('GPT', `idx must be int32 (B, T), got ${idx.dtype} ${shapeStr(idx.shape)}`);
    const T = idx.shape[1]!;
    const past = cachedLength(options.caches?.[0]);
    if (past + T > this.config.blockSize) throw new ModuleError('GPT', `cannot forward a sequence of length ${past + T}, block size is only ${this.config.blockSize}`);
    return tidy(() => {
      const tok = this.transformer.wte.forward(idx); // (B, T, C)
      const pos = this.transformer.wpe.forward(arange(past, past + T)); // (T, C)
      let x = this.transformer.drop.forward(add(tok, pos));
      const on = options.onAttention;
      this.transformer.h.items.forEach((block, i) => { x = block.forward(x, options.caches?.[i] ?? null, on && ((r) => on(i, r))); });
      x = this.transformer.ln_f.forward(x);
      const logits = this.lm_head.forward(x); // (B, T, vocab)
      const loss = options.targets ? crossEntropy(logits, options.targets, { ignoreIndex: -1 }) : null;
      return { logits, loss };
    });
  }

  /**
   * One decoding cache per layer for step-by-step generation, the one the attention kind keeps:
   * a KVCache for softmax/relu/additive, a constant-size LinearAttentionState (B, nh, hs, hs) for linear.
   */
  makeCaches(batch = 1): DecodingCache[] {
    const hs = this.config.nEmbd / this.config.nHead;
    const kind = attentionKind(this.config.attention, 'GPT');
    return this.transformer.h.items.map(() => kind.makeCache(batch, this.config.nHead, hs, hs));
  }

  /** Loads a nanoGPT state dict: drops the causal-mask buffers (".attn.bias") and torch.compile's "_orig_mod." prefix. */
  override loadStateDict(source: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    const given = source instanceof Map ? source : new Map(Object.entries(source));
    const cleaned = new Map<string, Tensor>();
    for (const [k, t] of given) {
      const key = k.startsWith('_orig_mod.') ? k.slice('_orig_mod.'.length) : k;
      if (/\.attn\.(bias|masked_bias)$/.test(key)) continue;
      cleaned.set(key, t);
    }
    return super.loadStateDict(cleaned, options);
  }
}

/** nanoGPT's `model_args` (as saved in its ckpt.pt) in snake_case. */
export interface NanoGPTModelArgs {
  n_layer: number;
  n_head: number;
  n_embd: number;
  block_size: number;
  vocab_size: number;
  bias?: boolean;
  dropout?: number;
}

/**
 * A GPT config from nanoGPT's `model_args` (`checkpoint['model_args']` in its ckpt.pt):
 * `new GPT(gptConfigFromNanoGPT(args))` then `loadStateDict(...)` of the same checkpoint.
 */
export function gptConfigFromNanoGPT(args: NanoGPTModelArgs): GPTConfig {
  checkOptions('gptConfigFromNanoGPT', args, optionKeys<NanoGPTModelArgs>({ n_layer: 1, n_head: 1, n_embd: 1, block_size: 1, vocab_size: 1, bias: 1, dropout: 1 }));
  for (const k of ['n_layer', 'n_head', 'n_embd', 'block_size', 'vocab_size'] as const) {
    if (args?.[k] === undefined) throw new ModuleError('gptConfigFromNanoGPT', `model_args has no "${k}"`);
  }
  return {
    vocabSize: args.vocab_size, blockSize: args.block_size, nLayer: args.n_layer, nHead: args.n_head, nEmbd: args.n_embd,
    bias: args.bias ?? true, dropout: args.dropout ?? 0,
  };
}
