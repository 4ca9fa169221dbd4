// One check for every options object qkv takes (nn modules, optimizers, the Trainer): an unknown
// key is an error naming it, and a PyTorch spelling names the qkv one, so `norm_first: true` can
// never build a post-LN layer without a word. A number or boolean where the options object goes
// (PyTorch's positional arguments) is an error too.
import { QkvError } from './errors.js';

export class OptionsError extends QkvError {
  override name = 'OptionsError';
}

/** The keys of an options type, spelled once; the compiler refuses a missing or an extra key. */
export function optionKeys<T>(keys: { [K in keyof Required<T>]: 1 }): readonly string[] {
  return Object.keys(keys);
}

/** PyTorch names with no one-to-one qkv option, and what to do instead. */
const PYTORCH_ONLY: Record<string, string> = {
  batch_first: 'qkv is always batch-first, (B, T, E): remove it',
  batchFirst: 'qkv is always batch-first, (B, T, E): remove it',
  device: 'qkv has one device: remove it',
  dtype: 'parameters are float32: remove it',
  add_bias_kv: 'not supported',
  add_zero_attn: 'not supported',
  enable_nested_tensor: 'not needed: padding masks never produce NaN here',
  custom_encoder: 'not supported',
  custom_decoder: 'not supported',
};

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Throws an OptionsError unless `options` is undefined or a plain object whose keys are all in
 * `known`. `where` names the class or function ("TransformerEncoderLayer").
 */
export function checkOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  const list = known.length > 8 ? `${known.slice(0, 8).join(', ')}, ... (${known.length} in all)` : known.join(', ');
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const positional = typeof options === 'number' || typeof options === 'boolean' || typeof options === 'string';
    throw new OptionsError(`${where}: options must be an object of named options (${list}), got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : `${typeof options} ${JSON.stringify(options)}`}${positional ? '; PyTorch-style positional arguments are not taken here: pass them by name' : ''}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const hint = (Object.hasOwn(PYTORCH_ONLY, key) ? PYTORCH_ONLY[key] : undefined) ?? (known.includes(camel(key)) ? `qkv spells it ${camel(key)}` : known.find((k) => k.toLowerCase() === key.toLowerCase()));
    const said = hint === undefined ? '' : hint.includes(' ') ? ` (${hint})` : ` (did you mean ${hint}?)`;
    throw new OptionsError(`${where}: unknown option "${key}"${said}; options are ${list}`);
  }
}
