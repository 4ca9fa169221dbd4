// Hugging Face architectures qkv builds from a config.json, by `architectures[0]`. Reading the
// directory (weights, tokenizer) is src/run/pretrained.ts; this part needs no files.
import type { Generator } from '../../../core/rng.js';
import { BertForSequenceClassification, BertForTokenClassification, bertConfigFromJson, bertConfigToJson } from './bert.js';
import { PretrainedError, type Json } from './config.js';
import { GPT2LMHeadModel, gpt2ConfigFromJson, gpt2ConfigToJson } from './gpt2.js';
import { ViTForImageClassification, vitConfigFromJson, vitConfigToJson } from './vit.js';
import { WhisperForConditionalGeneration, whisperConfigFromJson, whisperConfigToJson } from './whisper.js';

export { PretrainedError, type Json } from './config.js';
export { Conv1D, Dense, Adaptable, type LoraOptions } from './layers.js';
export { GPT2LMHeadModel, gpt2ConfigFromJson, gpt2ConfigToJson, type GPT2Config, type CausalLMOutput, type GPT2ForwardOptions } from './gpt2.js';
export { BertModel, BertForTokenClassification, BertForSequenceClassification, bertConfigFromJson, bertConfigToJson, type BertConfig, type BertInputs, type ClassifierOutput, type EncoderOutput } from './bert.js';
export { addLora, freezeForLora, loraStateDict, mergeLora, matchesTarget, adaptableModules, adapterConfigJson, loraConfigFromJson, fanInFanOut, PEFT_PREFIX, type LoraConfig } from './lora.js';

export { ViTForImageClassification, vitConfigFromJson, vitConfigToJson, type ViTConfig } from './vit.js';

export { WhisperForConditionalGeneration, whisperConfigFromJson, whisperConfigToJson, type WhisperConfig, type Seq2SeqLMOutput } from './whisper.js';

export type HfModel = GPT2LMHeadModel | BertForTokenClassification | BertForSequenceClassification | ViTForImageClassification | WhisperForConditionalGeneration;

const BUILDERS: Record<string, (json: Json, file: string, g?: Generator) => HfModel> = {
  GPT2LMHeadModel: (j, f, g) => new GPT2LMHeadModel(gpt2ConfigFromJson(j, f), g),
  BertForTokenClassification: (j, f, g) => new BertForTokenClassification(bertConfigFromJson(j, f), g),
  BertForSequenceClassification: (j, f, g) => new BertForSequenceClassification(bertConfigFromJson(j, f), g),
  ViTForImageClassification: (j, f, g) => new ViTForImageClassification(vitConfigFromJson(j, f), g),
  WhisperForConditionalGeneration: (j, f, g) => new WhisperForConditionalGeneration(whisperConfigFromJson(j, f), g),
};

/** The architectures fromPretrained builds. */
export const HF_ARCHITECTURES: readonly string[] = Object.keys(BUILDERS);

/** A model (random weights) for a parsed config.json, by its `architectures[0]`. */
export function hfModelFromConfig(json: Json, file = 'config.json', generator?: Generator): HfModel {
  const archs = json.architectures;
  const arch = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : null;
  if (!arch) throw new PretrainedError(file, `has no "architectures" list (qkv builds ${HF_ARCHITECTURES.join(', ')})`);
  const build = BUILDERS[arch];
  if (!build) throw new PretrainedError(file, `the architecture "${arch}" is not supported (qkv builds ${HF_ARCHITECTURES.join(', ')})`);
  return build(json, file, generator);
}

/** The config.json to save for a model: the loaded one (if any) with the model's own fields over it. */
export function hfConfigJson(model: HfModel, base: Json = {}): Json {
  const own = model instanceof GPT2LMHeadModel ? gpt2ConfigToJson(model.config)
    : model instanceof ViTForImageClassification ? vitConfigToJson(model.config)
      : model instanceof WhisperForConditionalGeneration ? whisperConfigToJson(model.config) : bertConfigToJson(model.config, model.architecture);
  const out: Json = { ...base, ...own };
  if ('labels' in model.config) out.num_labels = model.config.labels.length;
  return out;
}
