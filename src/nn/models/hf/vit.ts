// ViTForImageClassification with Hugging Face's names (a label per image, the lecture's image as a
// set of vectors): vit.embeddings.{cls_token, position_embeddings, patch_embeddings.projection},
// vit.encoder.layer.{i}.{layernorm_before, attention.attention.{query,key,value},
// attention.output.dense, layernorm_after, intermediate.dense, output.dense}, vit.layernorm,
// classifier. Patches by a Conv2d of stride = kernel = patch size, a learned [CLS] vector and
// positions, pre-LN blocks, GELU, the classifier on the final [CLS] vector.
import { shapeStr } from '../../../core/errors.js';
import { defaultGenerator, type Generator } from '../../../core/rng.js';
import { zeros } from '../../../ops/creation.js';
import { conv2d } from '../../../ops/conv2d.js';
import { add } from '../../../ops/elementwise.js';
import { concat } from '../../../ops/join.js';
import { crossEntropy } from '../../../ops/loss.js';
import { expand, permute, reshape, select } from '../../../ops/views.js';
import { tidy } from '../../../tensor/engine.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { ModuleList } from '../../containers.js';
import { normal } from '../../init.js';
import { Dropout, LayerNorm } from '../../layers.js';
import { Module, ModuleError } from '../../module.js';
import { attendWith, attentionKind } from '../../attention/kinds/index.js';
import type { ClassifierOutput } from './bert.js';
import { ConfigReader, type Json } from './config.js';
import { act } from './gpt2.js';
import { Dense, dropped } from './layers.js';

export interface ViTConfig {
  imageSize: number;
  patchSize: number;
  numChannels: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  activation: 'gelu' | 'gelu_tanh' | 'relu';
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  qkvBias: boolean;
  labels: string[];
}

export function vitConfigFromJson(json: Json, file = 'config.json'): ViTConfig {
  const r = new ConfigReader(json, file);
  const c: ViTConfig = {
    imageSize: r.int('image_size', 224), patchSize: r.int('patch_size', 16), numChannels: r.int('num_channels', 3),
    hiddenSize: r.int('hidden_size', 768), numHiddenLayers: r.int('num_hidden_layers', 12), numAttentionHeads: r.int('num_attention_heads', 12),
    intermediateSize: r.int('intermediate_size', 3072), activation: r.activation('hidden_act', 'gelu'), layerNormEps: r.num('layer_norm_eps', 1e-12),
    hiddenDropout: r.num('hidden_dropout_prob', 0), attentionDropout: r.num('attention_probs_dropout_prob', 0), qkvBias: json.qkv_bias !== false,
    labels: r.labels() ?? Array.from({ length: Number.isInteger(json.num_labels) ? (json.num_labels as number) : 2 }, (_, i) => `LABEL_${i}`),
  };
  if (c.imageSize % c.patchSize) r.fail(`"patch_size" (${c.patchSize}) must divide "image_size" (${c.imageSize})`);
  if (c.hiddenSize % c.numAttentionHeads) r.fail(`"num_attention_heads" (${c.numAttentionHeads}) must divide "hidden_size" (${c.hiddenSize})`);
  return c;
}

export function vitConfigToJson(c: ViTConfig): Json {
  return {
    architectures: ['ViTForImageClassification'], model_type: 'vit', image_size: c.imageSize, patch_size: c.patchSize, num_channels: c.numChannels,
    hidden_size: c.hiddenSize, num_hidden_layers: c.numHiddenLayers, num_attention_heads: c.numAttentionHeads, intermediate_size: c.intermediateSize,
    hidden_act: { gelu: 'gelu', gelu_tanh: 'gelu_new', relu: 'relu' }[c.activation], layer_norm_eps: c.layerNormEps,
    hidden_dropout_prob: c.hiddenDropout, attention_probs_dropout_prob: c.attentionDropout, qkv_bias: c.qkvBias,
    id2label: Object.fromEntries(c.labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(c.labels.map((l, i) => [l, i])),
  };
}

/** The patch projection: a Conv2d (weight [H, C, p, p]) whose stride is its kernel. */
class ViTPatchProjection extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly c: ViTConfig, g: Generator) {
    super();
    this.weight = this.param('weight', normal([c.hiddenSize, c.numChannels, c.patchSize, c.patchSize], 0.02, g));
    this.bias = this.param('bias', zeros([c.hiddenSize]));
  }
}

class ViTPatchEmbeddings extends Module {
  readonly projection: ViTPatchProjection;

  constructor(c: ViTConfig, g: Generator) {
    super();
    this.projection = this.module('projection', new ViTPatchProjection(c, g));
  }
}

class ViTEmbeddings extends Module {
  readonly cls_token: Tensor;
  readonly position_embeddings: Tensor;
  readonly patch_embeddings: ViTPatchEmbeddings;
  readonly dropout: Dropout;

  constructor(readonly c: ViTConfig, g: Generator) {
    super();
    const n = (c.imageSize / c.patchSize) ** 2;
    this.cls_token = this.param('cls_token', normal([1, 1, c.hiddenSize], 0.02, g));
    this.patch_embeddings = this.module('patch_embeddings', new ViTPatchEmbeddings(c, g));
    this.position_embeddings = this.param('position_embeddings', normal([1, n + 1, c.hiddenSize], 0.02, g));
    this.dropout = this.module('dropout', new Dropout(c.hiddenDropout));
  }

  /** pixel values (B, C, H, W) -> ([CLS], patch vectors) + positions (B, 1 + N, hidden) */
  forward(pixels: Tensor): Tensor {
    return tidy(() => {
      const p = this.patch_embeddings.projection;
      const B = pixels.shape[0]!;
      const grid = conv2d(pixels, p.weight, p.bias, { stride: this.c.patchSize }); // (B, hidden, H/p, W/p)
      const patches = permute(reshape(grid, [B, this.c.hiddenSize, -1]), [0, 2, 1]); // (B, N, hidden), row by row
      const cls = expand(this.cls_token, [B, 1, this.c.hiddenSize]);
      return dropped(this.dropout, add(concat([cls, patches], 1), this.position_embeddings));
    });
  }
}

class ViTSelfAttention extends Module {
  readonly query: Dense;
  readonly key: Dense;
  readonly value: Dense;

  constructor(readonly c: ViTConfig, g: Generator) {
    super();
    const o = { bias: c.qkvBias, generator: g };
    this.query = this.module('query', new Dense(c.hiddenSize, c.hiddenSize, o));
    this.key = this.module('key', new Dense(c.hiddenSize, c.hiddenSize, o));
    this.value = this.module('value', new Dense(c.hiddenSize, c.hiddenSize, o));
  }
}

/** dense then dropout (ViTSelfOutput, ViTOutput: the residual is added by the layer). */
class DenseOnly extends Module {
  readonly dense: Dense;
  readonly dropout: Dropout;

  constructor(inDim: number, outDim: number, p: number, g: Generator) {
    super();
    this.dense = this.module('dense', new Dense(inDim, outDim, { generator: g }));
    this.dropout = this.module('dropout', new Dropout(p));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => dropped(this.dropout, this.dense.forward(x)));
  }
}

class ViTAttention extends Module {
  readonly attention: ViTSelfAttention;
  readonly output: DenseOnly;

  constructor(readonly c: ViTConfig, g: Generator) {
    super();
    this.attention = this.module('attention', new ViTSelfAttention(c, g));
    this.output = this.module('output', new DenseOnly(c.hiddenSize, c.hiddenSize, c.hiddenDropout, g));
  }

  forward(x: Tensor, needWeights: boolean): { y: Tensor; alphaPrime: Tensor | null } {
    const [B, T, H] = x.shape as [number, number, number];
    const nh = this.c.numAttentionHeads;
    return tidy(() => {
      const heads = (t: Tensor) => permute(reshape(t, [B, T, nh, H / nh]), [0, 2, 1, 3]); // (B, nh, T, hs)
      const a = this.attention;
      const r = attendWith(attentionKind('softmax', 'ViTSelfAttention'), {
        q: heads(a.query.forward(x)), k: heads(a.key.forward(x)), v: heads(a.value.forward(x)), causal: false, window: null, cache: null,
        needWeights, dropout: this.c.attentionDropout, training: this.training, params: {}, module: 'ViTSelfAttention',
      });
      return { y: this.output.forward(reshape(permute(r.b, [0, 2, 1, 3]), [B, T, H])), alphaPrime: r.alphaPrime };
    });
  }
}

class ViTLayer extends Module {
  readonly attention: ViTAttention;
  readonly intermediate: DenseOnly;
  readonly output: DenseOnly;
  readonly layernorm_before: LayerNorm;
  readonly layernorm_after: LayerNorm;

  constructor(readonly c: ViTConfig, g: Generator) {
    super();
    this.attention = this.module('attention', new ViTAttention(c, g));
    this.intermediate = this.module('intermediate', new DenseOnly(c.hiddenSize, c.intermediateSize, 0, g));
    this.output = this.module('output', new DenseOnly(c.intermediateSize, c.hiddenSize, c.hiddenDropout, g));
    this.layernorm_before = this.module('layernorm_before', new LayerNorm(c.hiddenSize, { eps: c.layerNormEps }));
    this.layernorm_after = this.module('layernorm_after', new LayerNorm(c.hiddenSize, { eps: c.layerNormEps }));
  }

  /** Pre-LN: h = x + attention(LN(x)); h + FFN(LN(h)). */
  forward(x: Tensor, needWeights: boolean): { h: Tensor; alphaPrime: Tensor | null } {
    return tidy(() => {
      const a = this.attention.forward(this.layernorm_before.forward(x), needWeights);
      const h = add(x, a.y);
      const f = act(this.intermediate.dense.forward(this.layernorm_after.forward(h)), this.c.activation);
      return { h: add(h, this.output.forward(f)), alphaPrime: a.alphaPrime };
    });
  }
}

class ViTEncoder extends Module {
  readonly layer: ModuleList<ViTLayer>;

  constructor(c: ViTConfig, g: Generator) {
    super();
    this.layer = this.module('layer', new ModuleList(Array.from({ length: c.numHiddenLayers }, () => new ViTLayer(c, g))));
  }
}

class ViTModel extends Module {
  readonly embeddings: ViTEmbeddings;
  readonly encoder: ViTEncoder;
  readonly layernorm: LayerNorm;

  constructor(c: ViTConfig, g: Generator) {
    super();
    this.embeddings = this.module('embeddings', new ViTEmbeddings(c, g));
    this.encoder = this.module('encoder', new ViTEncoder(c, g));
    this.layernorm = this.module('layernorm', new LayerNorm(c.hiddenSize, { eps: c.layerNormEps }));
  }
}

export class ViTForImageClassification extends Module {
  readonly architecture = 'ViTForImageClassification';
  readonly vit: ViTModel;
  classifier: Dense;

  constructor(readonly config: ViTConfig, private readonly g: Generator = defaultGenerator) {
    super();
    this.vit = this.module('vit', new ViTModel(config, g));
    this.classifier = this.module('classifier', new Dense(config.hiddenSize, config.labels.length, { generator: g }));
  }

  /**
   * transformers 5 loads these weights into renamed modules (vit.layers.{i}.attention.q_proj,
   * k_proj, v_proj, o_proj, mlp.fc1, mlp.fc2): PEFT's targets and adapter keys use those names.
   */
  peftPath(path: string): string {
    const m = /^vit\.encoder\.layer\.(\d+)\.(.*)$/.exec(path);
    if (!m) return path;
    const inner: Record<string, string> = {
      'attention.attention.query': 'attention.q_proj', 'attention.attention.key': 'attention.k_proj', 'attention.attention.value': 'attention.v_proj',
      'attention.output.dense': 'attention.o_proj', 'intermediate.dense': 'mlp.fc1', 'output.dense': 'mlp.fc2',
    };
    return `vit.layers.${m[1]}.${inner[m[2]!] ?? m[2]}`;
  }

  /** A fresh classifier for other labels. */
  replaceHead(labels: readonly string[]): void {
    this.unregister('classifier')?.dispose();
    this.config.labels = [...labels];
    this.classifier = this.module('classifier', new Dense(this.config.hiddenSize, labels.length, { generator: this.g }));
  }

  /** pixel values (B, C, H, W), normalised -> logits (B, labels); hidden states are the encoder's (before the final layernorm), as transformers. */
  forward(x: { pixelValues: Tensor; labels?: Tensor | null; outputHiddenStates?: boolean; outputAttentions?: boolean }): ClassifierOutput {
    const c = this.config;
    const px = x.pixelValues;
    if (px.rank !== 4 || px.shape[1] !== c.numChannels || px.shape[2] !== c.imageSize || px.shape[3] !== c.imageSize) {
      throw new ModuleError('ViTForImageClassification', `pixel values must be (B, ${c.numChannels}, ${c.imageSize}, ${c.imageSize}), got ${shapeStr(px.shape)}`);
    }
    return tidy(() => {
      let h = this.vit.embeddings.forward(px);
      const hiddenStates: Tensor[] = [h];
      const attentions: Tensor[] = [];
      for (const layer of this.vit.encoder.layer.items) {
        const r = layer.forward(h, !!x.outputAttentions);
        h = r.h;
        hiddenStates.push(h);
        if (r.alphaPrime) attentions.push(r.alphaPrime);
      }
      const logits = this.classifier.forward(select(this.vit.layernorm.forward(h), 1, 0)); // the [CLS] vector
      return {
        logits, loss: x.labels ? crossEntropy(logits, x.labels) : null,
        hiddenStates: x.outputHiddenStates ? hiddenStates : null, attentions: x.outputAttentions ? attentions : null,
      };
    });
  }
}
