// `classify`: one label for the whole sequence (lecture §2, N in, 1 out), e.g. the sentiment
// of a sentence, the class of a graph or of a recording. Metrics: accuracy and macro-F1.
import { defaultGenerator, type Generator } from '../core/rng.js';
import { QkvError } from '../core/errors.js';
import type { ClassifiedExample, SequenceInput } from '../data/types.js';
import { LabelSet, type LabelSetJSON } from '../data/labels.js';
import type { FrontEnd } from '../data/frontend.js';
import { tensor } from '../ops/creation.js';
import { crossEntropy } from '../ops/loss.js';
import { argmax } from '../ops/reduce.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { EvalResult, TrainingTask } from '../train/trainer.js';
import { onDevice, type TaskDriver, type TaskFile, type TaskInstance } from './driver.js';
import { readLater, readNow, type Reading } from '../ops/reads.js';
import { Featurizer, type FeaturizerJSON } from './featurize.js';
import { accuracy, perLabelPRF } from '../metrics/index.js';
import { DEFAULT_MODEL, ImageClassifier, SequenceClassifier, type InputBatch, type ModelConfig } from '../nn/models/taggers.js';

/** The classifier that reads this featurizer's inputs. */
function classifier(featurizer: Featurizer, model: ModelConfig, numLabels: number, g?: Generator): SequenceClassifier | ImageClassifier {
  const input = featurizer.inputConfig();
  return input.kind === 'image' ? new ImageClassifier(input, model, numLabels, g) : new SequenceClassifier(input, model, numLabels, g);
}

export interface ClassifyConfig {
  task: 'classify';
  featurizer: FeaturizerJSON;
  labels: LabelSetJSON;
  model: ModelConfig;
  [k: string]: unknown;
}

export interface ClassifyInstance extends TaskInstance {
  config: ClassifyConfig;
  model: SequenceClassifier | ImageClassifier;
  featurizer: Featurizer;
  labels: LabelSet;
}

interface ClassifyBatch { input: InputBatch & { lengths: number[] }; labels: Tensor }

function batch(m: ClassifyInstance, examples: readonly ClassifiedExample[], o: { wordDropout?: number; g?: Generator } = {}): ClassifyBatch {
  return { input: m.featurizer.batch(examples, o), labels: tensor(Int32Array.from(examples, (e) => m.labels.id(e.label, e.origin)), { shape: [examples.length] }) };
}

/** The predicted label of each input, reading one batch's argmax at a time (see ops/reads.ts). */
function* predicting(m: ClassifyInstance, inputs: readonly SequenceInput[], batchSize = 64): Reading<string[]> {
  const out: string[] = [];
  for (let i = 0; i < inputs.length; i += batchSize) {
    const pred = yield tidy(() => noGrad(() => argmax(m.model.forward(m.featurizer.batch(inputs.slice(i, i + batchSize))), -1)));
    out.push(...m.labels.decode(pred));
  }
  return out;
}

function classifyResult(examples: readonly ClassifiedExample[], pred: string[]): EvalResult {
  const gold = examples.map((e) => e.label);
  return { metrics: { accuracy: accuracy(pred, gold), macroF1: perLabelPRF(pred, gold).macro.f1 }, main: 'accuracy', higherIsBetter: true };
}

/** What a classifier is made and trained with. */
export interface ClassifyOptions {
  model?: Partial<ModelConfig>;
  /** 'bpe': subword pieces (default 'words'). */
  tokenize?: 'words' | 'bpe';
  /** BPE vocabulary size (tokenize 'bpe'). */
  vocabSize?: number;
  /** How the frames or images were made from files (saved in the config). */
  frontEnd?: FrontEnd;
  batchSize?: number;
  labelSmoothing?: number;
  generator?: Generator;
}

export const classifyDriver: TaskDriver<ClassifyInstance, ClassifiedExample, SequenceInput, string, ClassifyOptions> = {
  name: 'classify',
  create(train, options) {
    if (!train.length) throw new QkvError('classify: no training examples');
    const featurizer = Featurizer.fromExamples(train, { task: 'classify', tokenize: options.tokenize, vocabSize: options.vocabSize, frontEnd: options.frontEnd });
    const labels = LabelSet.build(train.map((e) => e.label));
    const model = { ...DEFAULT_MODEL, ...options.model };
    const config: ClassifyConfig = { task: 'classify', featurizer: featurizer.toJSON(), labels: labels.toJSON(), model };
    const g = options.generator ?? defaultGenerator;
    return { config, featurizer, labels, model: classifier(featurizer, model, labels.size, g), files: () => featurizer.files() };
  },
  fromConfig(raw, files?: Readonly<Record<string, TaskFile>>) {
    const config = raw as ClassifyConfig;
    const featurizer = Featurizer.fromJSON(config.featurizer, files, 'classify');
    const labels = LabelSet.fromJSON(config.labels);
    return { config, featurizer, labels, model: classifier(featurizer, config.model, labels.size), files: () => featurizer.files() };
  },
  training(m, train, dev, options): TrainingTask<unknown> {
    const { batchSize = 32, labelSmoothing = 0 } = options;
    const task: TrainingTask<ClassifyBatch> = {
      nextBatch: (g) => batch(m, Array.from({ length: batchSize }, () => train[g.int(0, train.length)]!), { wordDropout: 0.05, g }),
      batchOf: (indices, g) => batch(m, indices.map((i) => train[i]!), { wordDropout: 0.05, g }),
      examples: train.length,
      batchSize,
      loss: (b) => crossEntropy(m.model.forward(b.input), b.labels, { labelSmoothing }),
      size: (b) => b.input.lengths.reduce((a, n) => a + n, 0),
      evaluate: () => (onDevice(m) ? classifyDriver.evaluateAsync(m, dev) : classifyDriver.evaluate(m, dev)),
    };
    return task as TrainingTask<unknown>;
  },
  evaluate: (m, examples) => classifyResult(examples, readNow(predicting(m, examples))),
  predict: (m, inputs) => readNow(predicting(m, inputs)),
  evaluateAsync: async (m, examples) => classifyResult(examples, await readLater(predicting(m, examples))),
  predictAsync: (m, inputs) => readLater(predicting(m, inputs)),
};
