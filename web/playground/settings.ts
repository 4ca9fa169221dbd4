// A model's settings as the page's form gives them, checked into one readable line each before
// any model is built, and turned into qkv's model options.
import { nn, type ModelConfig, type ModelKind } from '../../src/browser.js';

export type Relevance = 'dot' | 'additive';
export type Normalizer = 'softmax' | 'relu';

export interface PlaySettings {
  model: ModelKind;
  relevance: Relevance;
  normalizer: Normalizer;
  /** Linear attention ("Transformers are RNNs"): no α′ is formed. */
  linear: boolean;
  heads: number;
  /** d_model, the width every head shares (each head gets width / heads). */
  width: number;
  layers: number;
  pos: nn.PositionKind;
  /** Truncated self-attention: attend to positions at most this far (0: the whole sequence). */
  window: number;
  lr: number;
}

export const DEFAULT_SETTINGS: PlaySettings = {
  model: 'transformer', relevance: 'dot', normalizer: 'softmax', linear: false, heads: 2, width: 32, layers: 2, pos: 'rope', window: 0, lr: 3e-3,
};

/** The model kinds as the lecture names them. */
export const MODEL_NAMES: Readonly<Record<ModelKind, string>> = {
  fc: 'FC (one position)', 'window-fc': 'window FC (±1)', cnn: 'CNN (kernel 3)', rnn: 'RNN (bi-LSTM)', transformer: 'self-attention',
};

/** The attention kind the settings pick, found by what each built-in kind says it computes. */
export function attentionOf(s: PlaySettings): string {
  if (s.linear) {
    const linear = nn.ATTENTION_KINDS.find((k) => nn.decodingOf(nn.attentionKind(k, 'playground')) === 'recurrent');
    if (!linear) throw new SettingsError('this build of qkv has no linear attention kind');
    return linear;
  }
  const found = nn.ATTENTION_KINDS.find((k) => {
    const l = nn.attentionKind(k, 'playground').lecture;
    return l?.relevance === s.relevance && l.normalizer === s.normalizer;
  });
  if (!found) throw new SettingsError(`no attention kind computes ${s.relevance} relevance with ${s.normalizer === 'relu' ? 'ReLU' : 'softmax'}; pick dot with softmax or ReLU, or additive with softmax`);
  return found;
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

const whole = (name: string, v: number, lo: number, hi: number): void => {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new SettingsError(`${name} must be a whole number from ${lo} to ${hi}, got ${Number.isNaN(v) ? 'nothing' : v}`);
};

/** Throws a SettingsError naming the first setting that cannot make a model. */
export function checkSettings(s: PlaySettings, task: 'tag' | 'seq2seq'): void {
  whole('width', s.width, 2, 256);
  whole('layers', s.layers, 1, 4);
  if (!(s.lr > 0 && s.lr <= 1)) throw new SettingsError(`learning rate must be a number above 0 and at most 1, got ${Number.isNaN(s.lr) ? 'nothing' : s.lr}`);
  if (task === 'seq2seq' && s.model !== 'transformer') throw new SettingsError('the sequence-to-sequence task is an encoder-decoder Transformer: pick self-attention');
  if (s.model !== 'transformer') return;
  whole('heads', s.heads, 1, 16);
  if (s.width % s.heads !== 0) throw new SettingsError(`width ${s.width} is not divisible by ${s.heads} heads: each head gets width / heads dimensions`);
  if (s.pos === 'rope' && (s.width / s.heads) % 2 !== 0) throw new SettingsError(`RoPE positions rotate pairs of dimensions: each head's width (${s.width} / ${s.heads} = ${s.width / s.heads}) must be even`);
  whole('window', s.window, 0, 64);
  const kind = attentionOf(s);
  if (s.window > 0 && !nn.attentionKind(kind, 'playground').honours.window) throw new SettingsError('linear attention cannot be truncated to a window (it never forms α); set window to 0');
  if (task === 'seq2seq' && s.window > 0) throw new SettingsError('the sequence-to-sequence model attends over whole sequences here; set window to 0');
}

/** qkv's ModelConfig for a tagger (dropout off: the runs are short). */
export function modelConfig(s: PlaySettings): Partial<ModelConfig> {
  return {
    kind: s.model, dModel: s.width, layers: s.layers, heads: s.heads, dropout: 0, attention: s.model === 'transformer' ? attentionOf(s) : 'softmax',
    pos: s.pos, window: s.window > 0 ? s.window : null, kernel: 3,
  };
}
