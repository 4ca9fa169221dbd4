// GPT2LMHeadModel with Hugging Face's names, so a save_pretrained directory loads unchanged:
//   transformer.wte.weight, transformer.wpe.weight, transformer.h.{i}.ln_1.*, .attn.c_attn.*,
//   .attn.c_proj.*, .ln_2.*, .mlp.c_fc.*, .mlp.c_proj.*, transformer.ln_f.*, lm_head.weight (tied
//   to wte; save_pretrained stores only wte). The projections are Conv1D (weight [in, out]).
// Pre-LN blocks, learned positions, GELU tanh ("gelu_new"), causal softmax attention through
// qkv's attention kinds (fused FlashAttention unless the weights are asked for; a KVCache for
// step-by-step generation).
import { shapeStr } from '../../../core/errors.js';
import { defaultGenerator, type Generator } from '../../../core/rng.js';
import { arange } from '../../../ops/creation.js';
import { addToFresh, geluToFresh, relu } from '../../../ops/elementwise.js';
import { split } from '../../../ops/join.js';
import { flashAttentionPacked } from '../../../ops/flash-attention.js';
import { crossEntropy } from '../../../ops/loss.js';
import { permute, reshape, slice } from '../../../ops/views.js';
import { noGrad, tidy } from '../../../tensor/engine.js';
import { assign } from '../../../ops/inplace.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { ModuleList } from '../../containers.js';
import { normal } from '../../init.js';
import { Dropout, Embedding, LayerNorm, Linear } from '../../layers.js';
import { Module, ModuleError, type LoadResult, type StateDict } from '../../module.js';
import { cachedLength, type DecodingCache } from '../../attention/decoding-cache.js';
import { KVCache } from '../../attention/kv-cache.js';
import { attendWith, attentionKind } from '../../attention/kinds/index.js';
import { flashAttentionEnabled } from '../../attention/scaled-dot-product.js';
import { ConfigReader, type Json } from './config.js';
import { Conv1D, dropped } from './layers.js';

export interface GPT2Config {
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** The MLP's inner size (n_inner; default 4·nEmbd). */
  nInner: number;
  activation: 'gelu' | 'gelu_tanh' | 'relu';
  layerNormEpsilon: number;
  residPdrop: number;
  embdPdrop: number;
  attnPdrop: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

/** A GPT2Config from config.json, refusing the options qkv does not implement. */
export function gpt2ConfigFromJson(json: Json, file = 'config.json'): GPT2Config {
  const r = new ConfigReader(json, file);
  r.only('scale_attn_weights', true);
  r.only('scale_attn_by_inverse_layer_idx', false);
  r.only('reorder_and_upcast_attn', false);
  r.only('add_cross_attention', false);
  r.only('tie_word_embeddings', true);
  const nEmbd = r.int('n_embd', 768);
  const c: GPT2Config = {
    vocabSize: r.int('vocab_size', 50257), nPositions: r.int('n_positions', 1024), nEmbd, nLayer: r.int('n_layer', 12),
    nHead: r.int('n_head', 12), nInner: json.n_inner == null ? 4 * nEmbd : r.int('n_inner'),
    activation: r.activation('activation_function', 'gelu_new'), layerNormEpsilon: r.num('layer_norm_epsilon', 1e-5),
    residPdrop: r.num('resid_pdrop', 0.1), embdPdrop: r.num('embd_pdrop', 0.1), attnPdrop: r.num('attn_pdrop', 0.1),
    bosTokenId: Number.isInteger(json.bos_token_id) ? (json.bos_token_id as number) : null,
    eosTokenId: Number.isInteger(json.eos_token_id) ? (json.eos_token_id as number) : null,
  };
  if (nEmbd % c.nHead) r.fail(`"n_head" (${c.nHead}) must divide "n_embd" (${nEmbd})`);
  return c;
}

/** The config.json save_pretrained writes for this config (transformers reads it back). */
export function gpt2ConfigToJson(c: GPT2Config): Json {
  const act = { gelu: 'gelu', gelu_tanh: 'gelu_new', relu: 'relu' }[c.activation];
  return {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: c.vocabSize, n_positions: c.nPositions, n_embd: c.nEmbd,
    n_layer: c.nLayer, n_head: c.nHead, n_inner: c.nInner === 4 * c.nEmbd ? null : c.nInner, activation_function: act,
    layer_norm_epsilon: c.layerNormEpsilon, resid_pdrop: c.residPdrop, embd_pdrop: c.embdPdrop, attn_pdrop: c.attnPdrop,
    bos_token_id: c.bosTokenId, eos_token_id: c.eosTokenId, tie_word_embeddings: true,
  };
}

/** The MLP's activation of x, a Linear's own fresh output (GELU goes into its memory where nothing needs x: geluToFresh). */
export function act(x: Tensor, a: GPT2Config['activation']): Tensor {
  return a === 'relu' ? relu(x) : geluToFresh(x, a === 'gelu_tanh' ? 'tanh' : 'none');
}

/** What a forward pass returns: logits, and on request every hidden state and attention map. */
export interface CausalLMOutput {
  /** (B, T, vocab); (B, n, vocab) with logitsToKeep n */
  logits: Tensor;
  loss: Tensor | null;
  /** nLayer + 1 tensors (B, T, C): the embeddings, each block's output, the last one after ln_f (as transformers). */
  hiddenStates: Tensor[] | null;
  /** nLayer tensors (B, nh, T, S): alpha' of each layer. */
  attentions: Tensor[] | null;
}

const softmaxKind = () => attentionKind('softmax', 'GPT2LMHeadModel');

class GPT2Attention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;
  readonly resid_dropout: Dropout;

  constructor(readonly c: GPT2Config, g: Generator) {
    super();
    this.c_attn = this.module('c_attn', new Conv1D(c.nEmbd, 3 * c.nEmbd, g));
    this.c_proj = this.module('c_proj', new Conv1D(c.nEmbd, c.nEmbd, g));
    this.resid_dropout = this.module('resid_dropout', new Dropout(c.residPdrop));
  }

  forward(x: Tensor, o: { cache: DecodingCache | null; keyPaddingMask: Tensor | null; needWeights: boolean }): { y: Tensor; alphaPrime: Tensor | null } {
    const [B, T, C] = x.shape as [number, number, number];
    const nh = this.c.nHead;
    const hs = C / nh;
    return tidy(() => {
      const qkv = this.c_attn.forward(x); // (B, T, 3C): q, k, v side by side
      // decoding one token on a KV cache: append and attend in one kernel call (kv-cache.ts), the
      // heads side by side as c_proj takes them (null where the fused step does not apply)
      if (o.cache instanceof KVCache && T === 1 && !o.needWeights && !o.keyPaddingMask && !(this.training && this.c.attnPdrop > 0)) {
        const y = o.cache.step(qkv, nh); // (B, 1, C)
        if (y) return { y: dropped(this.resid_dropout, this.c_proj.forward(y)), alphaPrime: null };
      }
      let b: Tensor; // (B, nh, T, hs)
      let alphaPrime: Tensor | null = null;
      if (!o.cache && !o.needWeights && flashAttentionEnabled()) {
        // the fused path on the packed heads: (B, T, 3, nh, hs) -> (3, B, nh, T, hs), one copy,
        // read in place by the kernel (what scaledDotProductAttention's fused path computes)
        // (attention dropout in training inside the kernel, with the naive path's mask for the same key)
        b = flashAttentionPacked(permute(reshape(qkv, [B, T, 3, nh, hs]), [2, 0, 3, 1, 4]),
          { causal: true, keyPaddingMask: o.keyPaddingMask, dropout: this.training ? this.c.attnPdrop : 0 });
      } else {
        const heads = (t: Tensor) => permute(reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
        const [q, k, v] = split(qkv, C, 2).map(heads) as [Tensor, Tensor, Tensor];
        const r = attendWith(softmaxKind(), {
          q, k, v, causal: true, window: null, cache: o.cache, keyPaddingMask: o.keyPaddingMask, needWeights: o.needWeights,
          dropout: this.c.attnPdrop, training: this.training, params: {}, module: 'GPT2Attention',
        });
        [b, alphaPrime] = [r.b, r.alphaPrime];
      }
      const y = reshape(permute(b, [0, 2, 1, 3]), [B, T, C]); // (B, T, C): the heads side by side
      return { y: dropped(this.resid_dropout, this.c_proj.forward(y)), alphaPrime };
    });
  }
}

class GPT2MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;
  readonly dropout: Dropout;

  constructor(readonly c: GPT2Config, g: Generator) {
    super();
    this.c_fc = this.module('c_fc', new Conv1D(c.nEmbd, c.nInner, g));
    this.c_proj = this.module('c_proj', new Conv1D(c.nInner, c.nEmbd, g));
    this.dropout = this.module('dropout', new Dropout(c.residPdrop));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => dropped(this.dropout, this.c_proj.forward(act(this.c_fc.forward(x), this.c.activation))));
  }
}

class GPT2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPT2MLP;

  constructor(c: GPT2Config, g: Generator) {
    super();
    this.ln_1 = this.module('ln_1', new LayerNorm(c.nEmbd, { eps: c.layerNormEpsilon }));
    this.attn = this.module('attn', new GPT2Attention(c, g));
    this.ln_2 = this.module('ln_2', new LayerNorm(c.nEmbd, { eps: c.layerNormEpsilon }));
    this.mlp = this.module('mlp', new GPT2MLP(c, g));
  }

  /** Pre-LN: x + attn(ln_1(x)), then + mlp(ln_2(·)). */
  forward(x: Tensor, o: { cache: DecodingCache | null; keyPaddingMask: Tensor | null; needWeights: boolean }): { h: Tensor; alphaPrime: Tensor | null } {
    return tidy(() => {
      const a = this.attn.forward(this.ln_1.forward(x), o);
      // the residual sums go into the sublayers' own fresh outputs (addToFresh), x and h stay as they are
      const h = addToFresh(a.y, x);
      return { h: addToFresh(this.mlp.forward(this.ln_2.forward(h)), h), alphaPrime: a.alphaPrime };
    });
  }
}

class GPT2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: ModuleList<GPT2Block>;
  readonly ln_f: LayerNorm;

  constructor(c: GPT2Config, g: Generator) {
    super();
    this.wte = this.module('wte', new Embedding(c.vocabSize, c.nEmbd, { generator: g }));
    this.wpe = this.module('wpe', new Embedding(c.nPositions, c.nEmbd, { generator: g }));
    this.drop = this.module('drop', new Dropout(c.embdPdrop));
    this.h = this.module('h', new ModuleList(Array.from({ length: c.nLayer }, () => new GPT2Block(c, g))));
    this.ln_f = this.module('ln_f', new LayerNorm(c.nEmbd, { eps: c.layerNormEpsilon }));
  }
}

export interface GPT2ForwardOptions {
  /** (B, T) next tokens; -100 (transformers) and -1 are ignored. Unlike transformers, targets are not shifted: pass ids[1:] for ids[:-1]. */
  targets?: Tensor | null;
  /** One per layer (makeCaches): positions continue after what they hold. */
  caches?: DecodingCache[] | null;
  /** (B, T) int32 1 = a real token, 0 = padding (transformers' attention_mask). */
  attentionMask?: Tensor | null;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
  /**
   * Logits for the last n positions only (transformers' logits_to_keep; 0 or absent: every position).
   * Generation needs 1: lm_head is the largest product of a step, and a prompt's other rows are dropped anyway.
   */
  logitsToKeep?: number;
}

export class GPT2LMHeadModel extends Module {
  readonly architecture = 'GPT2LMHeadModel';
  readonly transformer: GPT2Model;
  readonly lm_head: Linear;

  constructor(readonly config: GPT2Config, generator: Generator = defaultGenerator) {
    super();
    this.transformer = this.module('transformer', new GPT2Model(config, generator));
    this.lm_head = this.module('lm_head', new Linear(config.nEmbd, config.vocabSize, { bias: false, weight: this.transformer.wte.weight }));
    for (const e of [this.transformer.wte.weight, this.transformer.wpe.weight]) { // transformers' init: N(0, 0.02)
      const w = normal([...e.shape], 0.02, generator);
      noGrad(() => assign(e, w)); // through a kernel: the weights may live on a device
      w.dispose();
    }
  }

  /** idx (B, T) int32 -> logits (B, T, vocab), with what `o` asks for. */
  forward(idx: Tensor, o: GPT2ForwardOptions = {}): CausalLMOutput {
    if (idx.rank !== 2 || idx.dtype !== 'int32') throw new ModuleError('GPT2LMHeadModel', `input ids must be int32 (B, T), got ${idx.dtype} ${shapeStr(idx.shape)}`);
    const T = idx.shape[1]!;
    const past = cachedLength(o.caches?.[0]);
    const keep = o.logitsToKeep ?? 0;
    if (!Number.isInteger(keep) || keep < 0) throw new ModuleError('GPT2LMHeadModel', `logitsToKeep must be a non-negative integer (0: every position), got ${keep}`);
    if (keep && o.targets) throw new ModuleError('GPT2LMHeadModel', 'logitsToKeep cannot go with targets: the loss needs the logits of every position');
    if (past + T > this.config.nPositions) throw new ModuleError('GPT2LMHeadModel', `cannot forward ${past + T} positions, n_positions is ${this.config.nPositions}`);
    return tidy(() => {
      const keyPaddingMask = o.attentionMask ? o.attentionMask.eq(0).cast('int32') : null; // (B, S) 1 = padding
      let x = dropped(this.transformer.drop, addToFresh(this.transformer.wte.forward(idx), this.transformer.wpe.forward(arange(past, past + T)))); // (B, T, C), into the fresh lookup
      const hiddenStates: Tensor[] = [];
      const attentions: Tensor[] = [];
      this.transformer.h.items.forEach((block, i) => {
        if (o.outputHiddenStates) hiddenStates.push(x);
        const r = block.forward(x, { cache: o.caches?.[i] ?? null, keyPaddingMask, needWeights: !!o.outputAttentions });
        x = r.h;
        if (r.alphaPrime) attentions.push(r.alphaPrime);
      });
      x = this.transformer.ln_f.forward(x);
      if (o.outputHiddenStates) hiddenStates.push(x);
      const logits = this.lm_head.forward(keep && keep < T ? slice(x, 1, T - keep) : x); // (B, T or keep, vocab)
      const loss = o.targets ? crossEntropy(logits, o.targets.maximum(-1), { ignoreIndex: -1 }) : null;
      return { logits, loss, hiddenStates: o.outputHiddenStates ? hiddenStates : null, attentions: o.outputAttentions ? attentions : null };
    });
  }

  /** One KVCache per layer for step-by-step generation. */
  makeCaches(batch = 1): DecodingCache[] {
    const hs = this.config.nEmbd / this.config.nHead;
    return this.transformer.h.items.map(() => softmaxKind().makeCache(batch, this.config.nHead, hs, hs));
  }

  /**
   * Loads transformers' state dict: drops the causal-mask buffers (".attn.bias", ".attn.masked_bias")
   * and accepts the bare GPT2Model names of the original checkpoints ("h.0..." for "transformer.h.0...").
   */
  override loadStateDict(source: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    const given = source instanceof Map ? source : new Map(Object.entries(source));
    const bare = ![...given.keys()].some((k) => k.startsWith('transformer.'));
    const cleaned = new Map<string, Tensor>();
    for (const [k, t] of given) {
      if (/\.attn\.(bias|masked_bias)$/.test(k)) continue;
      cleaned.set(bare && k !== 'lm_head.weight' ? `transformer.${k}` : k, t);
    }
    return super.loadStateDict(cleaned, options);
  }
}
