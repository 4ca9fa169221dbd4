// Checkpoint directories, written atomically: every file goes into a fresh temporary
// directory, a COMPLETE marker is written last, and only then is the directory swapped into
// place (old -> DIR.old-*, new -> DIR, old removed). A kill at any moment leaves either the old
// complete checkpoint or the new complete one; readCheckpoint finishes an interrupted swap.
//   model.safetensors   the state dict (PyTorch names)
//   config.json         what rebuilds the model: task, model options, vocabularies, metrics
//   optimizer.safetensors + trainer.json   (resumable checkpoints) optimizer and loop state
//   tokenizer.json      (subword models) the Hugging Face tokenizer the model was trained with
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { QkvError } from '../core/errors.js';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';

export class CheckpointError extends QkvError {
  override name = 'CheckpointError';
}

const MARKER = 'COMPLETE';

export interface CheckpointWrite {
  config: Record<string, unknown>;
  model: Module;
  optimizer?: Optimizer | null;
  trainer?: Record<string, unknown> | null;
  /** Text files the model needs besides config.json, by name (e.g. tokenizer.json). */
  files?: Readonly<Record<string, string>>;
}

/** The extra files a checkpoint may hold (CheckpointWrite.files); readCheckpoint reads these. */
export const CHECKPOINT_FILES = ['tokenizer.json'] as const;

/** An extra file as read back: its text and its path (for error messages). */
export interface CheckpointFile {
  path: string;
  text: string;
}

export interface CheckpointRead {
  dir: string;
  config: Record<string, unknown>;
  /** The model's state dict; the caller disposes it (or hands it to loadStateDict and disposes). */
  tensors: Map<string, Tensor>;
  optimizer: { tensors: Map<string, Tensor>; stepCount: number } | null;
  trainer: Record<string, unknown> | null;
  files: Record<string, CheckpointFile>;
}

function writeFileSynced(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'wx');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* not every platform can fsync a directory */ }
}

const suffix = (): string => `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

/** Writes a checkpoint directory atomically (see the file comment). */
export function saveCheckpoint(dir: string, c: CheckpointWrite): void {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `${basename(dir)}.tmp-${suffix()}`);
  mkdirSync(tmp);
  try {
    writeFileSynced(join(tmp, 'model.safetensors'), serializeSafetensors(c.model.stateDict(), { format: 'pt' }));
    writeFileSynced(join(tmp, 'config.json'), JSON.stringify(c.config, null, 2) + '\n');
    if (c.optimizer) {
      const s = c.optimizer.exportState();
      writeFileSynced(join(tmp, 'optimizer.safetensors'), serializeSafetensors(s.tensors, { stepCount: String(s.stepCount) }));
    }
    if (c.trainer) writeFileSynced(join(tmp, 'trainer.json'), JSON.stringify(c.trainer, null, 2) + '\n');
    for (const [name, text] of Object.entries(c.files ?? {})) {
      if (!(CHECKPOINT_FILES as readonly string[]).includes(name)) throw new QkvError(`unknown checkpoint file ${name}`);
      writeFileSynced(join(tmp, name), text);
    }
    writeFileSynced(join(tmp, MARKER), '');
    syncDir(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new CheckpointError(`cannot write checkpoint ${dir}: ${(e as Error).message}`);
  }
  let old: string | null = null;
  if (existsSync(dir)) {
    old = join(parent, `${basename(dir)}.old-${suffix()}`);
    renameSync(dir, old);
  }
  renameSync(tmp, dir);
  syncDir(parent);
  if (old) rmSync(old, { recursive: true, force: true });
}

/** Completes a swap a kill interrupted: the newest complete temporary or old copy becomes DIR. */
function recover(dir: string): void {
  if (existsSync(join(dir, MARKER))) return;
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const base = basename(dir);
  const candidates = readdirSync(parent)
    .filter((f) => f.startsWith(`${base}.tmp-`) || f.startsWith(`${base}.old-`))
    .map((f) => join(parent, f))
    .filter((p) => existsSync(join(p, MARKER)));
  // a complete tmp is newer than any old copy
  const pick = candidates.find((p) => basename(p).startsWith(`${base}.tmp-`)) ?? candidates[0];
  if (!pick || existsSync(dir)) return;
  renameSync(pick, dir);
}

export function isCheckpoint(dir: string): boolean {
  recover(dir);
  return existsSync(join(dir, MARKER));
}

/**
 * Removes what killed saves left next to `dir` (DIR.tmp-*, DIR.old-*), only once `dir` itself is a
 * complete checkpoint (so nothing is removed that recover() could still need). Returns the names removed.
 */
export function removeLeftovers(dir: string): string[] {
  if (!isCheckpoint(dir)) return [];
  const parent = dirname(dir);
  const base = basename(dir);
  const gone: string[] = [];
  for (const f of readdirSync(parent)) {
    if (!f.startsWith(`${base}.tmp-`) && !f.startsWith(`${base}.old-`)) continue;
    rmSync(join(parent, f), { recursive: true, force: true });
    gone.push(f);
  }
  return gone;
}

/** Why a checkpoint file cannot be read, in the words of its error messages. */
function partProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'is missing (an incomplete or damaged checkpoint)' : code === 'EISDIR' ? 'is a directory, not a file' : (e as Error).message;
}

/** A checkpoint file's bytes; a missing file or a directory in its place is a CheckpointError naming the path. */
function readPart(dir: string, name: string): Buffer {
  const path = join(dir, name);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`${path}: ${partProblem(e)}`);
  }
}

function readJsonPart(dir: string, name: string): Record<string, unknown> {
  const path = join(dir, name);
  let value: unknown;
  try {
    value = JSON.parse(readPart(dir, name).toString('utf8'));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CheckpointError(`${path}: must hold a JSON object`);
  return value as Record<string, unknown>;
}

export function readCheckpoint(dir: string): CheckpointRead {
  completeCheckpoint(dir);
  const config = readJsonPart(dir, 'config.json');
  const tensors = parseSafetensors(readPart(dir, 'model.safetensors'), join(dir, 'model.safetensors')).tensors;
  let optimizer: CheckpointRead['optimizer'] = null;
  let trainer: Record<string, unknown> | null = null;
  try {
    if (existsSync(join(dir, 'optimizer.safetensors'))) {
      const o = parseSafetensors(readPart(dir, 'optimizer.safetensors'), join(dir, 'optimizer.safetensors'));
      optimizer = { tensors: o.tensors, stepCount: Number(o.metadata.stepCount ?? 0) };
    }
    trainer = existsSync(join(dir, 'trainer.json')) ? readJsonPart(dir, 'trainer.json') : null;
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    if (optimizer) for (const t of optimizer.tensors.values()) t.dispose();
    throw e;
  }
  const files: Record<string, CheckpointFile> = {};
  for (const name of CHECKPOINT_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) files[name] = { path, text: readPart(dir, name).toString('utf8') };
  }
  return { dir, config, tensors, optimizer, trainer, files };
}

/** The complete checkpoint in `dir` (finishing an interrupted swap), or a CheckpointError saying why not. */
function completeCheckpoint(dir: string): void {
  recover(dir);
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: no such checkpoint directory`);
  if (!existsSync(join(dir, MARKER))) throw new CheckpointError(`${dir}: not a complete qkv checkpoint (no ${MARKER} marker)`);
}

/**
 * A checkpoint's config.json alone (task, step, model options, metrics, ...), without reading
 * its tensors: for the many callers that need one field of it.
 */
export function readCheckpointConfig(dir: string): Record<string, unknown> {
  completeCheckpoint(dir);
  return readJsonPart(dir, 'config.json');
}

/** How many values the checkpoint's state dict holds, from model.safetensors' header (no tensor is read). */
export function checkpointValueCount(dir: string): number {
  completeCheckpoint(dir);
  const path = join(dir, 'model.safetensors');
  const bad = (why: string) => new CheckpointError(`${path}: ${why}`);
  const read = (fd: number, bytes: number, at: number): Buffer => {
    const b = Buffer.alloc(bytes);
    try {
      return b.subarray(0, readSync(fd, b, 0, bytes, at));
    } catch (e) {
      throw bad(partProblem(e));
    }
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw bad(partProblem(e));
  }
  try {
    const length = read(fd, 8, 0);
    if (length.length < 8) throw bad('too short for the 8-byte header length');
    const n = Number(length.readBigUInt64LE(0));
    if (n > 100_000_000) throw bad(`header length ${n} is not plausible`);
    const header = read(fd, n, 8);
    if (header.length < n) throw bad(`header length ${n} runs past the end of the file`);
    let entries: Record<string, { shape?: unknown; data_offsets?: unknown }>;
    try {
      entries = JSON.parse(header.toString('utf8')) as Record<string, { shape?: unknown; data_offsets?: unknown }>;
    } catch (e) {
      throw bad(`header is not valid JSON (${(e as Error).message})`);
    }
    let count = 0;
    let end = 0;
    for (const [name, e] of Object.entries(entries)) {
      if (name === '__metadata__') continue;
      if (!Array.isArray(e?.shape) || !Array.isArray(e.data_offsets)) throw bad(`tensor "${name}" has no shape or data_offsets`);
      count += (e.shape as number[]).reduce((a, b) => a * b, 1);
      end = Math.max(end, Number(e.data_offsets[1]));
    }
    // the values themselves are not read, but a file cut short is still a damaged checkpoint
    const size = fstatSync(fd).size;
    if (8 + n + end > size) throw bad(`the tensors' data runs past the end of the file (${size} bytes; the header says ${8 + n + end})`);
    return count;
  } finally {
    closeSync(fd);
  }
}
