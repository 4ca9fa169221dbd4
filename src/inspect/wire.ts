// What the visualizer page receives, in one place for both ends: the CLI's server and exports
// write these as JSON (inspectModel's result, the model's summary, the training records of
// attention.jsonl) and web/ draws them. Plain JSON types only; nothing here runs.

/** One head of one layer. Vectors are rows: q[i] is q^i. */
export interface HeadInspection {
  q: number[][]; k: number[][]; v: number[][];
  /** alpha[i][j]: relevance of j to query i after the masks; null where a mask blocks it. Null for linear attention. */
  alpha: (number | null)[][] | null;
  alphaPrime: number[][] | null;
  b: number[][];
  /** This head's rows of the input projection, (headDim, dModel), and biases (headDim). */
  Wq: number[][]; Wk: number[][]; Wv: number[][];
  bq: number[] | null; bk: number[] | null; bv: number[] | null;
  /** Additive attention: alpha = w · tanh(q + k). */
  w: number[] | null;
  /**
   * Linear attention as an RNN: the state after each position t, S[t] = Σ_{j<=t} φ(k^j) v^jᵀ
   * (headDim × headDim) and z[t] = Σ_{j<=t} φ(k^j), from LinearAttentionState; null otherwise.
   */
  state: { S: number[][][]; z: number[][] } | null;
}

export interface LayerInspection {
  /** The vectors the layer's attention read, (T, dModel) (after LayerNorm in a pre-LN model). */
  a: number[][];
  /** Cross-attention: the vectors the keys and values were made from (the encoder's output), (S, dModel); absent otherwise. */
  aKeys?: number[][];
  heads: HeadInspection[];
}

/** One more attention of a seq2seq model: its queries, its keys (when they are other positions) and its layers. */
export interface AttentionPart {
  name: 'decoder self-attention' | 'cross-attention';
  tokens: string[];
  keys: string[] | null;
  /** (T, S) */
  blocked: boolean[][];
  layers: LayerInspection[];
}

/** One head at one generation step: the new query over everything cached so far. */
export interface GenerationHead {
  q: number[];
  /** The keys and values this step appended to the cache, (n, headDim): the prompt's at step 0, one per step after. */
  k: number[][]; v: number[][];
  /** The query's scores and weights over the cache (position + 1 of them); null for linear attention. */
  alpha: number[] | null; alphaPrime: number[] | null;
  b: number[];
  /** Linear attention: its recurrent state after this step, S (headDim × headDim) and z; null otherwise. */
  state: { S: number[][]; z: number[] } | null;
}

/** A step of generation: the token at `position` is read (step 0: the whole prompt), the cache grows to position + 1, `next` is chosen. */
export interface GenerationStep {
  position: number;
  next: string;
  /** layers[layer][head] */
  layers: GenerationHead[][];
}

export interface GenerationInspection {
  /** The prompt's tokens, then the generated ones. */
  tokens: string[];
  /** Tokens in the prompt. */
  prompt: number;
  /** 'greedy', or the temperature and seed it was sampled with. */
  sampling: string;
  steps: GenerationStep[];
}

/**
 * lm: new tokens (default 8; 0: the prompt's attention only, generation null), temperature
 * (default 0: greedy) and seed; seq2seq: maxNewTokens caps the output (default 2·|source| + 10),
 * and `target` (tokens split as the model's data) is teacher-forced instead of the greedy output.
 * (What the page asks the server for besides the input.)
 */
export interface InspectOptions { maxNewTokens?: number; temperature?: number; seed?: number; target?: string[] }

/** What the page needs to know of the model's attention kind (from its definition, nn's AttentionKindDef), never its name. */
export interface AttentionKindInfo {
  /** 'kv': decoding appends keys and values to a cache; 'recurrent': a constant-size state (S, z) takes each position in (linear attention). */
  decoding: 'kv' | 'recurrent';
  /** How the lecture writes alpha: q·k/√d ('dot') or w·tanh(q + k) ('additive'); null: a kind the view has no formula for, or none formed. */
  relevance: 'dot' | 'additive' | null;
  /** How alpha becomes alpha': 'softmax' or 'relu'; null as for relevance. */
  normalizer: 'softmax' | 'relu' | null;
}

export interface ModelInspection {
  task: 'tag' | 'classify' | 'lm' | 'seq2seq';
  /** What a position is: a word, an audio frame, a graph node, an image patch. */
  input: 'words' | 'frames' | 'graph' | 'image';
  /** One label per position: the word as typed, or "frame i" / "node i" / "patch r,c" counted from 1 (lm: the prompt; seq2seq: the source). */
  tokens: string[];
  /** Key labels when keys are other positions than the queries (a cross-attention part the page shows); null here. */
  keys: string[] | null;
  /** Words the model never saw in training (read as <unk> plus their spelling). */
  unknown: boolean[];
  edges: [number, number][] | null;
  /** tag: a label per position; classify: one label; lm: the generated text; seq2seq: the output. */
  prediction: string[] | string;
  model: {
    kind: string; attention: string; pos: string; layers: number; heads: number; dModel: number; headDim: number;
    window: number | null; normFirst: boolean; scale: number;
  } & AttentionKindInfo;
  /** blocked[i][j]: a mask keeps query i from key j (window, graph edges); the same in every layer and head. */
  blocked: boolean[][];
  layers: LayerInspection[];
  /** seq2seq: the decoder's self-attention and the cross-attention (the top level is the encoder's); null otherwise. */
  parts: AttentionPart[] | null;
  /** lm: generation step by step from the prompt with the decoding caches; null otherwise (and with maxNewTokens 0). */
  generation: GenerationInspection | null;
  /** Frame models: the frames the model read, (T, dim) (for audio: log-mel, one per frameMs); absent otherwise. */
  frames?: number[][];
  /** Audio: the hop between frames in milliseconds (from the model's front end); absent otherwise. */
  frameMs?: number;
  /** Image models: the picture as the model read it and its patch grid; absent otherwise. */
  image?: ImageView;
}

/** An image cut into patches: position k (after the class token, when `cls`) is patch (⌊k / cols⌋, k mod cols). */
export interface ImageView {
  channels: number; height: number; width: number;
  /** (channels, height, width): the normalised values the model read. */
  pixels: number[][][];
  /** Side of a square patch in pixels; rows × cols patches. */
  patch: number; rows: number; cols: number;
  /** Position 1 is a class token (the one classified) before the patches. */
  cls: boolean;
}

/** What the server's /api/model answers and an export embeds. */
export interface ModelInfo {
  name: string; task: string; input: 'words' | 'frames' | 'image';
  /** A model with a front end reads files: WAV ('audio') or PNG/JPEG ('image'); null: typed input. */
  media?: 'audio' | 'image' | null;
  /** The built-in example the page can show (a file name or a description); null if none. */
  example?: string | null;
  kind: string; attention: string; pos: string; layers: number; heads: number; dModel: number;
}

/** Maps of one attention part: alphaPrime[layer][head][i][j], query tokens[i] over key keys[j] (null for linear attention). */
export interface WatchPart { name: string; tokens: string[]; keys: string[]; blocked: boolean[][]; alphaPrime: (number[][] | null)[][] }

/**
 * One evaluation's record (cli/viz/watch.ts writes them; web/training.ts plays them). The top level is square self-attention
 * over `tokens`, named by `part` (absent in older files: a tag/classify encoder's); `parts` holds
 * more (seq2seq: cross-attention); `target` says whether its rows are a teacher-forced target or
 * that step's greedy output.
 */
export interface WatchRecord {
  step: number; metrics: Record<string, number>; tokens: string[]; blocked: boolean[][]; alphaPrime: (number[][] | null)[][];
  part?: string; parts?: WatchPart[]; target?: 'teacher-forced' | 'greedy';
}
