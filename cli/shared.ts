// Flag parsing shared by the commands: typed values with clear errors, --config files whose
// values fill in flags not given on the command line, and user errors as one line.
import { dirname, resolve as resolvePath } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { nn, QkvError, writeFileAtomic } from '../src/index.js';
import { systemErrorLine } from './errors.js';
import { whileWriting } from './interrupts.js';

/** A user error: printed as one line, exit code 1, no stack trace. */
export class UsageError extends QkvError {}

export function int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER, why = '') {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}${why ? ` (${why})` : ''}` : `>= ${min}`}`);
    }
    return n;
  };
}

/** A number flag in [min, max] (or [min, max) with `below`: dropout 1 would drop everything). */
export function float(name: string, min = -Infinity, max = Infinity, below = false) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (below && n === max)) {
      throw new InvalidArgumentError(`${name} must be a number${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` and ${below ? '<' : '<='} ${max}` : ''}`);
    }
    return n;
  };
}

/** --vocab-size: entries of a BPE vocabulary (256 bytes + up to 4 special tokens + merges). */
/** --n: built-in sets are generated in memory; a million examples is already far past what they teach. */
export const MAX_BUILTIN_N = 1_000_000;

/** The byte-level BPE trainer's own limit (src/data/tokenizers). */
const MAX_BPE_VOCAB = 4194303;

export function vocabSizeOption(): Option {
  return new Option('--vocab-size <n>', 'BPE vocabulary size, with --tokenize bpe (256 bytes, the special tokens, then merges; default 1000)')
    .argParser(int('--vocab-size', 260, MAX_BPE_VOCAB, 'the most ids a byte-level BPE tokenizer holds'));
}

/** Refuses --vocab-size without --tokenize bpe (never a silently ignored option). */
export function checkVocabSize(o: Record<string, unknown>): void {
  if (o.vocabSize !== undefined && o.tokenize !== 'bpe') throw new UsageError(`--vocab-size needs --tokenize bpe (got --tokenize ${String(o.tokenize)})`);
}

export function choice(flags: string, description: string, choices: readonly string[], def?: string): Option {
  const o = new Option(flags, description).choices(choices);
  return def === undefined ? o : o.default(def);
}

const camel = (s: string): string => s.replace(/^--?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Fills options the user did not give on the command line from `--config file.json` (keys as
 * flag names, "max-steps" or "maxSteps"); flags always win. Unknown keys are an error.
 */
/** --attention as the models take it: a registered kind's name (choice() listed them; a --config file's value is checked here, naming the flag). */
export function attentionFlag(o: Record<string, unknown>): nn.AttentionKind {
  return nn.attentionKind(String(o.attention ?? 'softmax'), '--attention').name;
}

export function applyConfig(cmd: Command): Record<string, unknown> {
  const opts = readConfig(cmd);
  const given = new Set(cmd.options.map((o) => o.attributeName()).filter((n) => ['cli', 'config'].includes(String(cmd.getOptionValueSource(n)))));
  explicit.set(opts, given);
  return opts;
}

const explicit = new WeakMap<object, ReadonlySet<string>>();

/** The options (attribute names) given on the command line or in --config, for the options object applyConfig returned. */
export function explicitFlags(o: Record<string, unknown>): ReadonlySet<string> | undefined {
  return explicit.get(o);
}

const configRead = new WeakSet<Command>();

/** Reads --config into the command's option values (done before the required-flag check too, so "out" in a config file counts as --out). */
export function readConfig(cmd: Command): Record<string, unknown> {
  const opts = cmd.opts() as Record<string, unknown>;
  const file = opts.config as string | undefined;
  // read once per command: a --config <(...) pipe has its bytes only once
  if (!file || configRead.has(cmd)) return opts;
  configRead.add(cmd);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `--config ${file}: file not found` : `--config ${file}: ${(e as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UsageError(`--config ${file}: must be a JSON object of flag names and values`);
  const known = new Map(cmd.options.map((o) => [o.attributeName(), o]));
  for (const [k, v] of Object.entries(json)) {
    const name = camel(k);
    const option = known.get(name);
    if (!option || name === 'config') throw new UsageError(`--config ${file}: unknown option "${k}" for qkv ${cmd.name()}`);
    if (cmd.getOptionValueSource(name) === 'cli') continue;
    const at = `--config ${file}: "${k}"`;
    let parsed: unknown;
    if (option.isBoolean()) {
      // a switch (--json, --resume, --no-bias): true or false only
      if (typeof v !== 'boolean') throw new UsageError(`${at} must be true or false, got ${JSON.stringify(v)}`);
      parsed = v;
    } else {
      // a repeatable flag (viz --input) takes one value or an array of them, each folded in as if repeated
      const repeatable = Array.isArray(option.defaultValue);
      const values = repeatable && Array.isArray(v) ? v as unknown[] : [v];
      if (repeatable && !values.length) throw new UsageError(`${at} must hold at least one value`);
      for (const x of values) {
        if (typeof x !== 'string' && typeof x !== 'number') throw new UsageError(`${at} must be a string or a number${repeatable ? ' (or an array of them)' : ''}, got ${JSON.stringify(v)}`);
      }
      // run each value through the flag's own parser, so a config file is checked like a flag
      try {
        parsed = repeatable ? undefined : String(v);
        if (repeatable) parsed = values.reduce((all: unknown, x) => option.parseArg!(String(x), all as never), [] as unknown[]);
        else if (option.parseArg) parsed = option.parseArg(String(v), undefined as never);
      } catch (e) {
        throw new UsageError(`${at}: ${(e as Error).message}, got ${JSON.stringify(v)}`);
      }
    }
    if (option.argChoices && !option.argChoices.includes(String(parsed))) {
      throw new UsageError(`${at} must be one of ${option.argChoices.join(', ')}, got ${JSON.stringify(v)}`);
    }
    cmd.setOptionValueWithSource(name, parsed, 'config');
  }
  return cmd.opts() as Record<string, unknown>;
}

/** Prints a value as JSON on stdout (for --json). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}

export function fmt(v: number | null | undefined): string {
  return typeof v !== 'number' || !Number.isFinite(v) ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/**
 * Makes sure `dir` (given by `flag`) is a directory qkv can write in, creating it if needed, so a
 * run fails before training, with the flag and the path, not at its first checkpoint.
 */
export function prepareOutDir(flag: string, dir: string): void {
  if (!dir.trim()) throw new UsageError(`${flag}: the path is empty; give the directory to write`);
  refuseKernelPath(flag, dir);
  const why = (e: unknown): string => systemErrorLine(e)?.replace(/^.*?: (?=[^:]*$)/, '') ?? (e as Error).message;
  let stat: ReturnType<typeof statSync> | undefined;
  try { stat = statSync(dir); } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`${flag} ${dir}: ${why(e)}`);
  }
  if (stat && !stat.isDirectory()) throw new UsageError(`${flag} ${dir}: is a file, not a directory`);
  try {
    if (!stat) mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`${flag} ${dir}: cannot write there (${why(e)})`);
  }
}

/**
 * Refuses an output folder under /proc or /sys: kernel interfaces, not folders (creating
 * folders there loops: mkdir -p spins at 100% CPU), and writing there can change the system.
 */
export function refuseKernelPath(flag: string, dir: string): void {
  const m = /^\/(proc|sys)(\/|$)/.exec(resolvePath(dir));
  if (m) throw new UsageError(`${flag} ${dir}: refusing to write under /${m[1]} (a kernel interface, not a folder)`);
}

/**
 * Refuses an output path `flag` names before anything is built: under /proc or /sys, an existing
 * directory where a file goes (or a file where a directory goes), a parent that is a file.
 */
export function checkOutputPath(flag: string, path: string, kind: 'file' | 'directory'): void {
  if (!path.trim()) throw new UsageError(`${flag}: the path is empty; give the ${kind} to write`);
  refuseKernelPath(flag, path);
  const stat = (p: string) => { try { return statSync(p); } catch { return null; } };
  const here = stat(path);
  if (here && kind === 'file' && here.isDirectory()) throw new UsageError(`${flag} ${path}: is a directory; give the file to write`);
  if (here && kind === 'directory' && !here.isDirectory()) throw new UsageError(`${flag} ${path}: is a file, not a directory`);
  // the nearest existing parent must be a directory
  for (let dir = dirname(resolvePath(path)); ; dir = dirname(dir)) {
    const s = stat(dir);
    if (s) {
      if (!s.isDirectory()) throw new UsageError(`${flag} ${path}: ${dir} is a file, not a directory`);
      break;
    }
    if (dir === dirname(dir)) break;
  }
}

/** Writes a text file the CLI produces atomically (complete or absent); `what` (a flag or a name) starts the error line. */
export function writeTextFile(path: string, text: string, what = path): void {
  whileWriting(() => writeFileAtomic(path, [Buffer.from(text, 'utf8')], (message) => new UsageError(`${what}: ${message}`)));
}
