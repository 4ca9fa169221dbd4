// BERT with Hugging Face's names: BertModel (bert.embeddings.*, bert.encoder.layer.{i}.attention.
// self.{query,key,value}, .attention.output.{dense,LayerNorm}, .intermediate.dense,
// .output.{dense,LayerNorm}, bert.pooler.dense) under the two heads of the lecture's outputs:
// BertForTokenClassification (a label per token: NER, POS) and BertForSequenceClassification
// (a label per sequence: the pooled [CLS] vector, sentiment). Post-LN blocks, absolute learned
// positions, token types (segments A/B), GELU (erf), attention_mask as key padding.
import { shapeStr } from '../../../core/errors.js';
import { defaultGenerator, type Generator } from '../../../core/rng.js';
import { arange, zeros } from '../../../ops/creation.js';
import { addToFresh, tanh } from '../../../ops/elementwise.js';
import { crossEntropy } from '../../../ops/loss.js';
import { permute, reshape, select } from '../../../ops/views.js';
import { noGrad, tidy } from '../../../tensor/engine.js';
import { assign } from '../../../ops/inplace.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { ModuleList } from '../../containers.js';
import { normal } from '../../init.js';
import { Dropout, Embedding, LayerNorm } from '../../layers.js';
import { Module, ModuleError, type LoadResult, type StateDict } from '../../module.js';
import { attendWith, attentionKind } from '../../attention/kinds/index.js';
import { ConfigReader, type Json } from './config.js';
import { act } from './gpt2.js';
import { Dense, dropped } from './layers.js';

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  activation: 'gelu' | 'gelu_tanh' | 'relu';
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  /** classifier_dropout (null: hidden_dropout_prob). */
  classifierDropout: number;
  padTokenId: number;
  /** The heads' labels by id (id2label). */
  labels: string[];
}

export function bertConfigFromJson(json: Json, file = 'config.json'): BertConfig {
  const r = new ConfigReader(json, file);
  r.only('position_embedding_type', 'absolute');
  r.only('is_decoder', false);
  r.only('add_cross_attention', false);
  const hiddenDropout = r.num('hidden_dropout_prob', 0.1);
  const c: BertConfig = {
    vocabSize: r.int('vocab_size', 30522), hiddenSize: r.int('hidden_size', 768), numHiddenLayers: r.int('num_hidden_layers', 12),
    numAttentionHeads: r.int('num_attention_heads', 12), intermediateSize: r.int('intermediate_size', 3072),
    maxPositionEmbeddings: r.int('max_position_embeddings', 512), typeVocabSize: r.int('type_vocab_size', 2),
    activation: r.activation('hidden_act', 'gelu'), layerNormEps: r.num('layer_norm_eps', 1e-12), hiddenDropout,
    attentionDropout: r.num('attention_probs_dropout_prob', 0.1),
    classifierDropout: json.classifier_dropout == null ? hiddenDropout : r.num('classifier_dropout', 0),
    padTokenId: Number.isInteger(json.pad_token_id) ? (json.pad_token_id as number) : 0,
    labels: r.labels() ?? Array.from({ length: Number.isInteger(json.num_labels) ? (json.num_labels as number) : 2 }, (_, i) => `LABEL_${i}`),
  };
  if (c.hiddenSize % c.numAttentionHeads) r.fail(`"num_attention_heads" (${c.numAttentionHeads}) must divide "hidden_size" (${c.hiddenSize})`);
  return c;
}

/** The config.json fields of this config (merged over the loaded one when saving). */
export function bertConfigToJson(c: BertConfig, architecture: string): Json {
  const hidden_act = { gelu: 'gelu', gelu_tanh: 'gelu_new', relu: 'relu' }[c.activation];
  return {
    architectures: [architecture], model_type: 'bert', vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
    num_hidden_layers: c.numHiddenLayers, num_attention_heads: c.numAttentionHeads, intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositionEmbeddings, type_vocab_size: c.typeVocabSize, hidden_act, layer_norm_eps: c.layerNormEps,
    hidden_dropout_prob: c.hiddenDropout, attention_probs_dropout_prob: c.attentionDropout, pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute', id2label: Object.fromEntries(c.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(c.labels.map((l, i) => [l, i])),
  };
}

export interface EncoderOutput {
  /** (B, T, H) after the last layer */
  lastHiddenState: Tensor;
  /** numHiddenLayers + 1 tensors (B, T, H): the embeddings, then each layer's output. */
  hiddenStates: Tensor[] | null;
  /** numHiddenLayers tensors (B, heads, T, T): alpha' of each layer. */
  attentions: Tensor[] | null;
}

export interface BertInputs {
  /** (B, T) int32 */
  inputIds: Tensor;
  /** (B, T) int32 segment ids; zeros when absent. */
  tokenTypeIds?: Tensor | null;
  /** (B, T) int32 1 = a real token, 0 = padding. */
  attentionMask?: Tensor | null;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(c: BertConfig, g: Generator) {
    super();
    this.word_embeddings = this.module('word_embeddings', new Embedding(c.vocabSize, c.hiddenSize, { generator: g }));
    this.position_embeddings = this.module('position_embeddings', new Embedding(c.maxPositionEmbeddings, c.hiddenSize, { generator: g }));
    this.token_type_embeddings = this.module('token_type_embeddings', new Embedding(c.typeVocabSize, c.hiddenSize, { generator: g }));
    this.LayerNorm = this.module('LayerNorm', new LayerNorm(c.hiddenSize, { eps: c.layerNormEps }));
    this.dropout = this.module('dropout', new Dropout(c.hiddenDropout));
  }

  forward(ids: Tensor, types: Tensor | null): Tensor {
    return tidy(() => {
      const T = ids.shape[1]!;
      const t = types ?? zeros([...ids.shape], { dtype: 'int32' });
      const e = addToFresh(addToFresh(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(t)), this.position_embeddings.forward(arange(0, T))); // (B, T, H), into the fresh lookup
      return dropped(this.dropout, this.LayerNorm.forward(e));
    });
  }
}

class BertSelfAttention extends Module {
  readonly query: Dense;
  readonly key: Dense;
  readonly value: Dense;

  constructor(readonly c: BertConfig, g: Generator) {
    super();
    this.query = this.module('query', new Dense(c.hiddenSize, c.hiddenSize, { generator: g }));
    this.key = this.module('key', new Dense(c.hiddenSize, c.hiddenSize, { generator: g }));
    this.value = this.module('value', new Dense(c.hiddenSize, c.hiddenSize, { generator: g }));
  }

  forward(x: Tensor, keyPaddingMask: Tensor | null, needWeights: boolean): { b: Tensor; alphaPrime: Tensor | null } {
    const [B, T, H] = x.shape as [number, number, number];
    const nh = this.c.numAttentionHeads;
    return tidy(() => {
      const heads = (t: Tensor) => permute(reshape(t, [B, T, nh, H / nh]), [0, 2, 1, 3]); // (B, nh, T, hs)
      const r = attendWith(attentionKind('softmax', 'BertSelfAttention'), {
        q: heads(this.query.forward(x)), k: heads(this.key.forward(x)), v: heads(this.value.forward(x)), causal: false, window: null,
        cache: null, keyPaddingMask, needWeights, dropout: this.c.attentionDropout, training: this.training, params: {}, module: 'BertSelfAttention',
      });
      return { b: reshape(permute(r.b, [0, 2, 1, 3]), [B, T, H]), alphaPrime: r.alphaPrime }; // (B, T, H)
    });
  }
}

/** dense, dropout, then LayerNorm(x + ·): BERT's post-LN residual (BertSelfOutput and BertOutput). */
class BertResidual extends Module {
  readonly dense: Dense;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(inDim: number, c: BertConfig, g: Generator) {
    super();
    this.dense = this.module('dense', new Dense(inDim, c.hiddenSize, { generator: g }));
    this.LayerNorm = this.module('LayerNorm', new LayerNorm(c.hiddenSize, { eps: c.layerNormEps }));
    this.dropout = this.module('dropout', new Dropout(c.hiddenDropout));
  }

  forward(h: Tensor, x: Tensor): Tensor {
    return tidy(() => this.LayerNorm.forward(addToFresh(dropped(this.dropout, this.dense.forward(h)), x))); // into dense's own output
  }
}

class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidual;

  constructor(c: BertConfig, g: Generator) {
    super();
    this.self = this.module('self', new BertSelfAttention(c, g));
    this.output = this.module('output', new BertResidual(c.hiddenSize, c, g));
  }
}

class BertIntermediate extends Module {
  readonly dense: Dense;

  constructor(readonly c: BertConfig, g: Generator) {
    super();
    this.dense = this.module('dense', new Dense(c.hiddenSize, c.intermediateSize, { generator: g }));
  }

  forward(x: Tensor): Tensor {
    return tidy(() => act(this.dense.forward(x), this.c.activation));
  }
}

class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidual;

  constructor(c: BertConfig, g: Generator) {
    super();
    this.attention = this.module('attention', new BertAttention(c, g));
    this.intermediate = this.module('intermediate', new BertIntermediate(c, g));
    this.output = this.module('output', new BertResidual(c.intermediateSize, c, g));
  }

  forward(x: Tensor, keyPaddingMask: Tensor | null, needWeights: boolean): { h: Tensor; alphaPrime: Tensor | null } {
    return tidy(() => {
      const a = this.attention.self.forward(x, keyPaddingMask, needWeights);
      const h = this.attention.output.forward(a.b, x); // LayerNorm(x + attention)
      return { h: this.output.forward(this.intermediate.forward(h), h), alphaPrime: a.alphaPrime }; // LayerNorm(h + FFN(h))
    });
  }
}

class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;

  constructor(c: BertConfig, g: Generator) {
    super();
    this.layer = this.module('layer', new ModuleList(Array.from({ length: c.numHiddenLayers }, () => new BertLayer(c, g))));
  }
}

class BertPooler extends Module {
  readonly dense: Dense;

  constructor(c: BertConfig, g: Generator) {
    super();
    this.dense = this.module('dense', new Dense(c.hiddenSize, c.hiddenSize, { generator: g }));
  }

  /** tanh(dense(the [CLS] vector)): (B, T, H) -> (B, H) */
  forward(h: Tensor): Tensor {
    return tidy(() => tanh(this.dense.forward(select(h, 1, 0))));
  }
}

/** BertModel; `addPooler` false for token classification (transformers' add_pooling_layer). */
export class BertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;

  constructor(readonly config: BertConfig, addPooler: boolean, g: Generator = defaultGenerator) {
    super();
    this.embeddings = this.module('embeddings', new BertEmbeddings(config, g));
    this.encoder = this.module('encoder', new BertEncoder(config, g));
    this.pooler = addPooler ? this.module('pooler', new BertPooler(config, g)) : null;
    for (const [name, p] of this.namedParameters()) { // transformers' init: N(0, 0.02) embeddings
      if (!name.includes('embeddings.') || name.includes('LayerNorm')) continue;
      const w = normal([...p.shape], 0.02, g);
      noGrad(() => assign(p, w)); // through a kernel: the weights may live on a device
      w.dispose();
    }
  }

  forward(x: BertInputs): EncoderOutput {
    const ids = x.inputIds;
    if (ids.rank !== 2 || ids.dtype !== 'int32') throw new ModuleError('BertModel', `input ids must be int32 (B, T), got ${ids.dtype} ${shapeStr(ids.shape)}`);
    if (ids.shape[1]! > this.config.maxPositionEmbeddings) throw new ModuleError('BertModel', `cannot encode ${ids.shape[1]} positions, max_position_embeddings is ${this.config.maxPositionEmbeddings}`);
    for (const [name, t] of [['token type ids', x.tokenTypeIds], ['attention mask', x.attentionMask]] as const) {
      if (t && t.shape.join() !== ids.shape.join()) throw new ModuleError('BertModel', `${name} ${shapeStr(t.shape)} do not match the input ids ${shapeStr(ids.shape)}`);
    }
    return tidy(() => {
      const keyPaddingMask = x.attentionMask ? x.attentionMask.eq(0).cast('int32') : null; // (B, T) 1 = padding
      let h = this.embeddings.forward(ids, x.tokenTypeIds ?? null);
      const hiddenStates: Tensor[] = [h];
      const attentions: Tensor[] = [];
      for (const layer of this.encoder.layer.items) {
        const r = layer.forward(h, keyPaddingMask, !!x.outputAttentions);
        h = r.h;
        hiddenStates.push(h);
        if (r.alphaPrime) attentions.push(r.alphaPrime);
      }
      return { lastHiddenState: h, hiddenStates: x.outputHiddenStates ? hiddenStates : null, attentions: x.outputAttentions ? attentions : null };
    });
  }
}

export interface ClassifierOutput extends Omit<EncoderOutput, 'lastHiddenState'> {
  /** (B, T, labels) for token classification, (B, labels) for sequence classification */
  logits: Tensor;
  loss: Tensor | null;
}

/** Drops buffers transformers may store (position_ids, token_type_ids) that are no parameters. */
function withoutBuffers(source: StateDict | Record<string, Tensor>): Map<string, Tensor> {
  const given = source instanceof Map ? source : new Map(Object.entries(source));
  return new Map([...given].filter(([k]) => !/embeddings\.(position_ids|token_type_ids)$/.test(k)));
}

abstract class BertClassifier extends Module {
  abstract readonly architecture: 'BertForTokenClassification' | 'BertForSequenceClassification';
  readonly bert: BertModel;
  readonly dropout: Dropout;
  classifier: Dense;

  constructor(readonly config: BertConfig, pooler: boolean, private readonly g: Generator) {
    super();
    this.bert = this.module('bert', new BertModel(config, pooler, g));
    this.dropout = this.module('dropout', new Dropout(config.classifierDropout));
    this.classifier = this.module('classifier', new Dense(config.hiddenSize, config.labels.length, { generator: g }));
  }

  /** A fresh classifier for other labels (fine-tuning on a task whose labels differ). */
  replaceHead(labels: readonly string[]): void {
    this.unregister('classifier')?.dispose();
    this.config.labels = [...labels];
    this.classifier = this.module('classifier', new Dense(this.config.hiddenSize, labels.length, { generator: this.g }));
  }

  override loadStateDict(source: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    return super.loadStateDict(withoutBuffers(source), options);
  }
}

export class BertForTokenClassification extends BertClassifier {
  readonly architecture = 'BertForTokenClassification';

  constructor(config: BertConfig, g: Generator = defaultGenerator) {
    super(config, false, g);
  }

  /** logits (B, T, labels); loss over `labels` (B, T) with -100 (and -1) ignored. */
  forward(x: BertInputs & { labels?: Tensor | null }): ClassifierOutput {
    return tidy(() => {
      const e = this.bert.forward(x);
      const logits = this.classifier.forward(dropped(this.dropout, e.lastHiddenState));
      const loss = x.labels ? crossEntropy(logits, x.labels.maximum(-1), { ignoreIndex: -1 }) : null;
      return { logits, loss, hiddenStates: e.hiddenStates, attentions: e.attentions };
    });
  }
}

export class BertForSequenceClassification extends BertClassifier {
  readonly architecture = 'BertForSequenceClassification';

  constructor(config: BertConfig, g: Generator = defaultGenerator) {
    super(config, true, g);
  }

  /** logits (B, labels) from the pooled [CLS] vector; loss over `labels` (B). */
  forward(x: BertInputs & { labels?: Tensor | null }): ClassifierOutput {
    return tidy(() => {
      const e = this.bert.forward(x);
      const logits = this.classifier.forward(dropped(this.dropout, this.bert.pooler!.forward(e.lastHiddenState)));
      const loss = x.labels ? crossEntropy(logits, x.labels) : null;
      return { logits, loss, hiddenStates: e.hiddenStates, attentions: e.attentions };
    });
  }
}
