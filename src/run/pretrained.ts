// Hugging Face directories on disk (Node): fromPretrained reads what save_pretrained writes
// (config.json; model.safetensors or a sharded model.safetensors.index.json; tokenizer.json),
// savePretrained writes the same layout back, and PEFT LoRA adapters (adapter_config.json +
// adapter_model.safetensors) load and save with PEFT's keys. Nothing is downloaded: the user
// points at a directory. Every problem is one line naming the file (and the tensor).
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Generator } from '../core/rng.js';
import { anyTokenizerFromJson } from '../data/tokenizers/wordpiece-json.js';
import type { BpeTokenizer } from '../data/tokenizers/tokenizer.js';
import type { WordPieceTokenizer } from '../data/tokenizers/wordpiece.js';
import { fsReason, writeFileAtomic } from '../io/atomic-file.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors-file.js';
import { ModuleError } from '../nn/module.js';
import { hfConfigJson, hfModelFromConfig, PretrainedError, type HfModel, type Json } from '../nn/models/hf/index.js';
import { ConfigReader } from '../nn/models/hf/config.js';
import { imageFrontEnd, type ImageFrontEnd } from '../data/image/pixels.js';
import { whisperFeatureConfigFromJson, type WhisperFeatureConfig } from '../data/audio/whisper-features.js';
import { adaptableModules, addLora, adapterConfigJson, fanInFanOut, loraConfigFromJson, loraStateDict, PEFT_PREFIX, peftPath, type LoraConfig } from '../nn/models/hf/lora.js';
import type { Tensor } from '../tensor/tensor.js';

export type HfTokenizer = BpeTokenizer | WordPieceTokenizer;

export interface Pretrained {
  dir: string;
  /** config.json's architectures[0] */
  architecture: string;
  model: HfModel;
  /** config.json as read (savePretrained writes it back with the model's fields over it). */
  config: Json;
  /** tokenizer.json, or null when the directory has none. */
  tokenizer: HfTokenizer | null;
  /** preprocessor_config.json of an image model as qkv's image front end, or null. */
  imageProcessor: ImageFrontEnd | null;
  /** preprocessor_config.json of a WhisperFeatureExtractor, or null. */
  featureExtractor: WhisperFeatureConfig | null;
  /** generation_config.json as read (forced_decoder_ids, decoder_start_token_id, ...), or null. */
  generationConfig: Json | null;
  /** When `dir` is a PEFT adapter: its config and the modules it adapts (the base model came from `base`). */
  adapter?: (LoraConfig & { modulesToSave: string[]; modules: string[]; base: string }) | null;
}

function readJson(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const reason = fsReason(e);
    if (reason === null) throw e;
    throw new PretrainedError(path, `cannot read: ${reason}`);
  }
  try {
    const j = JSON.parse(text) as unknown;
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error('not a JSON object');
    return j as Json;
  } catch (e) {
    throw new PretrainedError(path, `not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
}

function checkDir(dir: string): void {
  if (!existsSync(dir)) throw new PretrainedError(dir, 'no such directory (fromPretrained reads a directory written by save_pretrained; nothing is downloaded)');
  if (!statSync(dir).isDirectory()) throw new PretrainedError(dir, 'is not a directory (fromPretrained reads a directory written by save_pretrained)');
}

/** The weights of a directory by name, each with the file it came from (for errors). */
function readWeights(dir: string): { tensors: Map<string, Tensor>; fileOf: (name: string) => string } {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) {
    const { tensors } = loadSafetensors(single);
    return { tensors, fileOf: () => single };
  }
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (!existsSync(indexPath)) {
    const other = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack'].find((f) => existsSync(join(dir, f)));
    throw new PretrainedError(dir, `has no model.safetensors or model.safetensors.index.json${other ? ` (only ${other}: qkv reads safetensors; save with safe_serialization=True)` : ''}`);
  }
  const index = readJson(indexPath);
  const map = index.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new PretrainedError(indexPath, 'has no "weight_map" object');
  const tensors = new Map<string, Tensor>();
  const files = new Map<string, string>();
  const shards = [...new Set(Object.values(map as Json))];
  try {
    for (const shard of shards) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) throw new PretrainedError(indexPath, `the shard ${JSON.stringify(shard)} is not a file name in the directory`);
      const path = join(dir, shard);
      for (const [k, t] of loadSafetensors(path).tensors) {
        tensors.set(k, t);
        files.set(k, path);
      }
    }
    for (const [k, shard] of Object.entries(map as Json)) {
      if (files.get(k) !== join(dir, shard as string)) throw new PretrainedError(join(dir, shard as string), `has no tensor "${k}" (model.safetensors.index.json puts it there)`);
    }
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, fileOf: (name) => files.get(name) ?? indexPath };
}

/** Loads tensors into a module; a refusal becomes one line naming the file. */
function loadInto(model: HfModel, tensors: Map<string, Tensor>, file: string): void {
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    if (e instanceof ModuleError) throw new PretrainedError(file, e.message);
    throw e;
  }
}

/**
 * A Hugging Face model from a save_pretrained directory: config.json picks the architecture
 * (GPT2LMHeadModel, BertForTokenClassification, BertForSequenceClassification), the weights come
 * from model.safetensors or its shards (F16/BF16 read as float32), tokenizer.json when present.
 */
export function fromPretrained(dir: string, o: { generator?: Generator; base?: string } = {}): Pretrained {
  checkDir(dir);
  if (existsSync(join(dir, 'adapter_config.json'))) return fromAdapterDir(dir, o);
  return fromModelDir(dir, o);
}

/**
 * A PEFT adapter directory: the base model (adapter_config.json's base_model_name_or_path, or
 * `base`), a new classifier where the directory's config.json has other labels, then the adapter.
 */
function fromAdapterDir(dir: string, o: { generator?: Generator; base?: string }): Pretrained {
  const configPath = join(dir, 'adapter_config.json');
  const base = o.base ?? readJson(configPath).base_model_name_or_path;
  if (typeof base !== 'string' || !existsSync(join(base, 'config.json'))) {
    throw new PretrainedError(configPath, `base_model_name_or_path ${JSON.stringify(base ?? null)} is not a save_pretrained directory here; name the base model's directory (--base DIR)`);
  }
  const p = fromModelDir(base, o);
  try {
    const own = join(dir, 'config.json');
    if (existsSync(own) && 'replaceHead' in p.model) {
      const labels = new ConfigReader(readJson(own), own).labels() ?? p.model.config.labels;
      if (labels.join('\n') !== p.model.config.labels.join('\n')) p.model.replaceHead(labels);
    }
    const adapter = { ...loadAdapter(p.model, dir), base };
    p.model.eval();
    const tokPath = join(dir, 'tokenizer.json');
    return { ...p, dir, config: existsSync(own) ? readJson(own) : p.config, tokenizer: existsSync(tokPath) ? readTokenizer(tokPath) : p.tokenizer, adapter };
  } catch (e) {
    p.model.dispose();
    throw e;
  }
}

function readTokenizer(tokPath: string): HfTokenizer {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(tokPath, 'utf8'));
  } catch (e) {
    throw new PretrainedError(tokPath, `not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  return anyTokenizerFromJson(j, tokPath);
}

function fromModelDir(dir: string, o: { generator?: Generator }): Pretrained {
  const configPath = join(dir, 'config.json');
  const config = readJson(configPath);
  const model = hfModelFromConfig(config, configPath, o.generator);
  try {
    const { tensors, fileOf } = readWeights(dir);
    try {
      const first = [...tensors.keys()][0];
      loadInto(model, tensors, first === undefined ? join(dir, 'model.safetensors') : fileOf(firstBad(model, tensors) ?? first));
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  const tokPath = join(dir, 'tokenizer.json');
  let tokenizer: HfTokenizer | null = null;
  let imageProcessor: ImageFrontEnd | null = null;
  let featureExtractor: WhisperFeatureConfig | null = null;
  let generationConfig: Json | null = null;
  try {
    if (existsSync(tokPath)) tokenizer = readTokenizer(tokPath);
    const pre = join(dir, 'preprocessor_config.json');
    const preJson = existsSync(pre) ? readJson(pre) : null;
    if (preJson?.feature_extractor_type === 'WhisperFeatureExtractor') featureExtractor = whisperFeatureConfigFromJson(preJson, pre);
    else if (preJson) imageProcessor = imageProcessorFromJson(preJson, pre);
    if (existsSync(join(dir, 'generation_config.json'))) generationConfig = readJson(join(dir, 'generation_config.json'));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { dir, architecture: model.architecture, model, config, tokenizer, imageProcessor, featureExtractor, generationConfig, adapter: null };
}

/**
 * A ViT image processor (preprocessor_config.json) as qkv's image front end: resize to
 * size.height × size.width, rescale by 1/255, normalise by image_mean / image_std. qkv's resize is
 * bilinear with half-pixel centres and no antialiasing (torch's F.interpolate); transformers'
 * PIL resize antialiases when shrinking, so only images already at the size give identical values.
 */
export function imageProcessorFromJson(json: Json, file = 'preprocessor_config.json'): ImageFrontEnd {
  const r = new ConfigReader(json, file);
  const size = json.size as Json | undefined;
  if (!size || !Number.isInteger(size.height) || !Number.isInteger(size.width)) r.fail(`"size" must be {"height": H, "width": W} (qkv does not implement ${JSON.stringify(size ?? null)})`);
  if (json.do_rescale !== false && Math.abs(Number(json.rescale_factor ?? 1 / 255) - 1 / 255) > 1e-9) r.fail(`"rescale_factor" ${String(json.rescale_factor)} is not supported (qkv reads 8-bit images scaled by 1/255)`);
  if (json.do_rescale === false) r.fail('"do_rescale": false is not supported (qkv reads pixels scaled to [0, 1])');
  r.only('do_center_crop', false);
  const triple = (name: string, fallback: number[]): number[] => {
    const v = json[name] ?? fallback;
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number')) return r.fail(`"${name}" must be three numbers (RGB)`);
    return v as number[];
  };
  const normalize = json.do_normalize !== false;
  return imageFrontEnd({
    channels: 3, height: size!.height as number, width: size!.width as number, resize: json.do_resize !== false,
    mean: normalize ? triple('image_mean', [0.5, 0.5, 0.5]) : [0, 0, 0], std: normalize ? triple('image_std', [0.5, 0.5, 0.5]) : [1, 1, 1],
  });
}

/** The first tensor the model would refuse (for naming its shard), or null. */
function firstBad(model: HfModel, tensors: Map<string, Tensor>): string | null {
  const own = model.stateDict();
  for (const [k, t] of tensors) {
    const mine = own.get(k);
    if (mine && (mine.shape.join() !== t.shape.join() || mine.dtype !== t.dtype)) return k;
  }
  return null;
}

/** Tensors as save_pretrained stores them: no adapters, a tied weight once (lm_head.weight is wte's). */
export function pretrainedStateDict(model: HfModel): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const seen = new Set<Tensor>();
  for (const [k, t] of model.stateDict()) {
    if (/\.lora_[AB]\.weight$/.test(k) || seen.has(t)) continue;
    seen.add(t);
    out.set(k, t);
  }
  return out;
}

function writeJson(path: string, j: unknown): void {
  writeFileAtomic(path, [new TextEncoder().encode(`${JSON.stringify(j, null, 2)}\n`)], (m) => new PretrainedError(path, m));
}

/**
 * Writes a model as save_pretrained does: config.json (the loaded config with the model's fields
 * over it) and model.safetensors (Hugging Face's names, metadata format "pt"), and tokenizer.json
 * copied from `tokenizerFrom` (a directory) when given. transformers' from_pretrained reads it.
 */
export function savePretrained(dir: string, model: HfModel, o: { config?: Json; tokenizerFrom?: string | null; configOnly?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true });
  if (!o.configOnly && [...model.stateDict().keys()].some((k) => /\.lora_[AB]\.weight$/.test(k))) {
    throw new PretrainedError(dir, 'the model carries LoRA adapters: merge them first (mergeLora) or save the adapter (saveAdapter)');
  }
  writeJson(join(dir, 'config.json'), hfConfigJson(model, o.config ?? {}));
  if (!o.configOnly) saveSafetensors(join(dir, 'model.safetensors'), pretrainedStateDict(model), { format: 'pt' });
  if (o.tokenizerFrom) { // the tokenizer and image processor travel with the model
    for (const f of ['tokenizer.json', 'preprocessor_config.json', 'generation_config.json']) {
      const src = join(o.tokenizerFrom, f);
      if (existsSync(src) && resolve(src) !== resolve(join(dir, f))) writeFileAtomic(join(dir, f), [readFileSync(src)], (m) => new PretrainedError(src, m));
    }
  }
}

/** Writes a LoRA adapter as PEFT's save_pretrained: adapter_config.json + adapter_model.safetensors. */
export function saveAdapter(dir: string, model: HfModel, c: LoraConfig, o: { modulesToSave?: string[]; baseModel?: string | null; taskType?: string | null } = {}): void {
  mkdirSync(dir, { recursive: true });
  const tensors = loraStateDict(model, o.modulesToSave ?? []);
  if (![...tensors.keys()].some((k) => k.endsWith('.lora_A.weight'))) throw new PretrainedError(dir, 'the model carries no LoRA adapter to save');
  // where transformers renames modules in memory (ViT), the targets are the exact names PEFT will see
  const adapted = adaptableModules(model).filter(([, m]) => m.lora_A).map(([p]) => p);
  const renamed = adapted.some((p) => peftPath(model, p) !== p);
  const targets = renamed ? adapted.map((p) => peftPath(model, p)) : c.targets;
  writeJson(join(dir, 'adapter_config.json'), adapterConfigJson({ ...c, targets }, { ...o, fanInFanOut: fanInFanOut(model) }));
  saveSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
}

/**
 * Loads a PEFT LoRA adapter directory onto a model: adds the adapters its config names, then
 * reads their A and B (and any modules_to_save) from adapter_model.safetensors. Every adapter
 * the config makes must be in the file and every tensor in the file must have a place.
 */
export function loadAdapter(model: HfModel, dir: string): LoraConfig & { modulesToSave: string[]; modules: string[] } {
  checkDir(dir);
  const configPath = join(dir, 'adapter_config.json');
  const c = loraConfigFromJson(readJson(configPath), configPath);
  const weightsPath = join(dir, 'adapter_model.safetensors');
  if (!existsSync(weightsPath)) {
    throw new PretrainedError(dir, `has no adapter_model.safetensors${existsSync(join(dir, 'adapter_model.bin')) ? ' (only adapter_model.bin: qkv reads safetensors)' : ''}`);
  }
  const { tensors } = loadSafetensors(weightsPath);
  let modules: string[] = [];
  try {
    modules = addLora(model, c, configPath);
    const own = model.stateDict();
    const ownName = new Map<string, string>();
    for (const [path] of adaptableModules(model)) for (const w of ['lora_A.weight', 'lora_B.weight']) ownName.set(`${peftPath(model, path)}.${w}`, `${path}.${w}`);
    const given = new Map<string, Tensor>();
    for (const [k, t] of tensors) {
      if (!k.startsWith(PEFT_PREFIX)) throw new PretrainedError(weightsPath, `the tensor "${k}" does not start with "${PEFT_PREFIX}" (PEFT's keys)`);
      // modules_to_save are stored as <module>.modules_to_save.<adapter>.* by older PEFT versions
      const bare = k.slice(PEFT_PREFIX.length).replace(/\.modules_to_save(\.default)?\./, '.');
      const name = ownName.get(bare) ?? bare; // a key under the name PEFT sees (peftPath) or qkv's own
      const mine = own.get(name);
      if (!mine) throw new PretrainedError(weightsPath, `the tensor "${k}" has no place in ${model.architecture} with adapters on ${JSON.stringify(c.targets)}`);
      if (mine.shape.join() !== t.shape.join()) throw new PretrainedError(weightsPath, `the tensor "${k}" has shape [${t.shape}], the model's is [${mine.shape}] (r = ${c.r})`);
      given.set(name, t);
    }
    const missing = [...own.keys()].filter((k) => /\.lora_[AB]\.weight$/.test(k) && !given.has(k));
    if (missing.length) throw new PretrainedError(weightsPath, `has no "${PEFT_PREFIX}${missing[0]!.replace(/^(.*)\.(lora_[AB]\.weight)$/, (_m, p: string, w: string) => `${peftPath(model, p)}.${w}`)}"${missing.length > 1 ? ` (and ${missing.length - 1} more adapter tensors)` : ''}`);
    model.loadStateDict(given, { strict: false });
    return { ...c, modules };
  } catch (e) {
    for (const [, m] of adaptableModules(model)) if (modules.length) m.removeLora(); // the model is left as it was
    throw e;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

export { PretrainedError };
