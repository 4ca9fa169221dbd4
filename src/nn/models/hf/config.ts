// Reading Hugging Face config.json values: each one checked, every error one line naming the
// file and the field; settings qkv does not implement are refused, never ignored.
import { QkvError } from '../../../core/errors.js';

/** A config.json (or adapter_config.json) that qkv cannot build a model from. */
export class PretrainedError extends QkvError {
  override name = 'PretrainedError';
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

export type Json = Record<string, unknown>;

export class ConfigReader {
  constructor(readonly json: Json, readonly file: string) {}

  fail(message: string): never {
    throw new PretrainedError(this.file, message);
  }

  int(name: string, fallback?: number): number {
    const v = this.json[name] ?? fallback;
    if (!Number.isInteger(v) || (v as number) <= 0) this.fail(`"${name}" must be a positive integer, got ${JSON.stringify(this.json[name] ?? null)}`);
    return v as number;
  }

  num(name: string, fallback: number): number {
    const v = this.json[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail(`"${name}" must be a number >= 0, got ${JSON.stringify(v)}`);
    return v;
  }

  str(name: string, fallback: string): string {
    const v = this.json[name] ?? fallback;
    if (typeof v !== 'string') this.fail(`"${name}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A setting that must keep the value qkv implements (absent is fine). */
  only(name: string, value: unknown, why = ''): void {
    const v = this.json[name];
    if (v !== undefined && v !== null && v !== value) this.fail(`"${name}" = ${JSON.stringify(v)} is not supported (qkv implements ${JSON.stringify(value)}${why ? `: ${why}` : ''})`);
  }

  /** Hugging Face's activation name as qkv's gelu flavour. */
  activation(name: string, fallback: string): 'gelu' | 'gelu_tanh' | 'relu' {
    const v = this.str(name, fallback);
    if (v === 'gelu') return 'gelu';
    if (v === 'gelu_new' || v === 'gelu_pytorch_tanh' || v === 'gelu_fast') return 'gelu_tanh';
    if (v === 'relu') return 'relu';
    return this.fail(`"${name}" = "${v}" is not supported (qkv implements gelu, gelu_new, gelu_pytorch_tanh, relu)`);
  }

  /** id2label as a list (ids 0..n-1), or null when absent. */
  labels(): string[] | null {
    const m = this.json.id2label;
    if (m === undefined || m === null) return null;
    if (typeof m !== 'object' || Array.isArray(m)) this.fail('"id2label" must be an object {"0": "LABEL", ...}');
    const out: string[] = [];
    for (const [k, v] of Object.entries(m as Json)) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || typeof v !== 'string') this.fail(`"id2label" entry ${JSON.stringify(k)}: ${JSON.stringify(v)} is not an id and a label`);
      out[i] = v;
    }
    for (let i = 0; i < out.length; i++) if (out[i] === undefined) this.fail(`"id2label" has no label for id ${i}`);
    return out;
  }
}
