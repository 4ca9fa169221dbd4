// LoRA as PEFT does it, on the Conv1D/Dense projections of the Hugging Face models: target
// modules named as PEFT names them (a list: a module whose dotted path is the name or ends with
// ".name"; a string: a regular expression the whole path must match), only the adapters train,
// and the adapter's state is PEFT's: adapter_config.json + adapter_model.safetensors with keys
// "base_model.model.<path>.lora_A.weight" / ".lora_B.weight". Merging folds B·A·scaling into
// the base weights.
import type { Tensor } from '../../../tensor/tensor.js';
import type { Module } from '../../module.js';
import { ConfigReader, PretrainedError, type Json } from './config.js';
import { Adaptable, Conv1D, type LoraOptions } from './layers.js';

export interface LoraConfig extends LoraOptions {
  /** PEFT's target_modules: names matched at the end of the module path, or one regular expression. */
  targets: string[] | string;
}

/** PEFT's key prefix for the model inside the adapter file. */
export const PEFT_PREFIX = 'base_model.model.';

/**
 * The name PEFT sees for a module path: the path itself, except where transformers renames a
 * model's modules in memory (transformers 5 loads ViT's on-disk "vit.encoder.layer.0.attention.
 * attention.query" as "vit.layers.0.attention.q_proj"; PEFT targets and keys use those names).
 */
export function peftPath(model: Module, path: string): string {
  const alias = (model as { peftPath?: (p: string) => string }).peftPath;
  return alias ? alias(path) : path;
}

/** Every projection that can carry an adapter, by dotted path. */
export function adaptableModules(model: Module): [string, Adaptable][] {
  const out: [string, Adaptable][] = [];
  const walk = (m: Module, path: string): void => {
    if (m instanceof Adaptable) out.push([path, m]);
    for (const [n, c] of m.namedChildren()) if (!n.startsWith('lora_')) walk(c, path ? `${path}.${n}` : n);
  };
  walk(model, '');
  return out;
}

/** PEFT's rule (check_target_module_exists): a list matches the path or its last parts; a string is a full regex match. */
export function matchesTarget(path: string, targets: string[] | string): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(path);
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

/** Adds an adapter to every targeted projection; returns their paths (an error when none matches). */
export function addLora(model: Module, c: LoraConfig, source = '--lora-targets'): string[] {
  const all = adaptableModules(model);
  const hit = all.filter(([p]) => matchesTarget(p, c.targets) || matchesTarget(peftPath(model, p), c.targets));
  if (!hit.length) {
    const names = [...new Set(all.flatMap(([p]) => [p.split('.').pop()!, peftPath(model, p).split('.').pop()!]))];
    throw new PretrainedError(source, `${source === '--lora-targets' ? '' : 'target_modules '}${JSON.stringify(c.targets)} matches no module of ${model.kind} (its projections: ${names.join(', ')})`);
  }
  for (const [, m] of hit) m.addLora(c);
  return hit.map(([p]) => p);
}

/**
 * Freezes everything but the adapters (and the modules named in `alsoTrain`, e.g. a new
 * classifier: PEFT's modules_to_save); returns the trainable parameters.
 */
export function freezeForLora(model: Module, alsoTrain: readonly string[] = []): Tensor[] {
  const out: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    const train = /\.lora_[AB]\.weight$/.test(name) || alsoTrain.some((m) => name.startsWith(`${m}.`));
    p.requiresGrad_(train);
    if (train) out.push(p);
  }
  return out;
}

/** The adapters' tensors under PEFT's keys (and the modules in `alsoSave` under theirs). */
export function loraStateDict(model: Module, alsoSave: readonly string[] = []): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of model.stateDict()) {
    const lora = /^(.*)\.(lora_[AB]\.weight)$/.exec(name);
    if (lora) out.set(`${PEFT_PREFIX}${peftPath(model, lora[1]!)}.${lora[2]}`, t);
    else if (alsoSave.some((m) => name.startsWith(`${m}.`))) out.set(PEFT_PREFIX + name, t);
  }
  return out;
}

/** Folds every adapter into its base weight and removes it. */
export function mergeLora(model: Module): number {
  const withAdapter = adaptableModules(model).filter(([, m]) => m.lora_A);
  for (const [, m] of withAdapter) m.mergeLora();
  return withAdapter.length;
}

/** PEFT's fan_in_fan_out: the adapted layers store weights [in, out] (GPT-2's Conv1D). */
export function fanInFanOut(model: Module): boolean {
  return adaptableModules(model).some(([, m]) => m.lora_A && m instanceof Conv1D);
}

/** The adapter_config.json PEFT writes for LoRA (the fields its LoraConfig reads; the rest take PEFT's defaults). */
export function adapterConfigJson(c: LoraConfig, o: { baseModel?: string | null; modulesToSave?: string[] | null; taskType?: string | null; fanInFanOut?: boolean } = {}): Json {
  return {
    peft_type: 'LORA', task_type: o.taskType ?? null, base_model_name_or_path: o.baseModel ?? null, inference_mode: true,
    r: c.r, lora_alpha: c.alpha, lora_dropout: c.dropout ?? 0, target_modules: c.targets, fan_in_fan_out: !!o.fanInFanOut,
    bias: 'none', use_rslora: !!c.rslora, use_dora: false, modules_to_save: o.modulesToSave?.length ? o.modulesToSave : null,
    init_lora_weights: true, layers_to_transform: null, layers_pattern: null, rank_pattern: {}, alpha_pattern: {},
  };
}

/** A LoraConfig from PEFT's adapter_config.json, refusing what qkv does not implement. */
export function loraConfigFromJson(json: Json, file = 'adapter_config.json'): LoraConfig & { modulesToSave: string[] } {
  const r = new ConfigReader(json, file);
  if (json.peft_type !== 'LORA') r.fail(`"peft_type" is ${JSON.stringify(json.peft_type ?? null)}; qkv loads LoRA adapters ("LORA")`);
  r.only('bias', 'none', 'bias adapters are not implemented');
  r.only('use_dora', false);
  for (const f of ['layers_to_transform', 'layers_pattern', 'target_parameters', 'trainable_token_indices', 'layer_replication']) {
    const v = json[f];
    if (v !== null && v !== undefined && !(Array.isArray(v) && !v.length)) r.fail(`"${f}" = ${JSON.stringify(v)} is not supported`);
  }
  for (const f of ['rank_pattern', 'alpha_pattern']) {
    const v = json[f];
    if (v && typeof v === 'object' && Object.keys(v).length) r.fail(`"${f}" is not supported (one r and alpha for every module)`);
  }
  const t = json.target_modules;
  const targets = typeof t === 'string' ? t : Array.isArray(t) && t.every((x) => typeof x === 'string') ? (t as string[]) : r.fail('"target_modules" must be a list of names or a regular expression');
  const m = json.modules_to_save;
  if (m != null && !(Array.isArray(m) && m.every((x) => typeof x === 'string'))) r.fail('"modules_to_save" must be a list of module names');
  return {
    r: r.int('r'), alpha: r.num('lora_alpha', 8), dropout: r.num('lora_dropout', 0), rslora: json.use_rslora === true, targets,
    modulesToSave: (m as string[] | null) ?? [],
  };
}
