// `qkv predict` on text and JSONL inputs: one output line per input line (an empty line in, an
// empty line out, so outputs stay aligned with inputs), and answered as the lines arrive when
// standard input is a terminal or a pipe. Lines that come together (a pipe's chunk) are
// predicted as one batch; a file (--input, or stdin redirected from one) is one batch.
import { fstatSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TaskInstance } from '../src/index.js';
import type { CliTask } from './tasks.js';

export interface LineSink {
  /** Writes the answers of one chunk of lines. */
  (lines: string[]): void;
}

/** The outputs of `lines` (numbered from `firstLine` in `file`): '' for a blank line, else the task's line (or JSON). */
export async function answerLines(t: CliTask, instance: TaskInstance, lines: readonly string[], firstLine: number, file: string,
  o: Record<string, unknown>): Promise<string[]> {
  const blank = (l: string) => (t.isBlank ? t.isBlank(l) : l.trim() === '');
  const filled = lines.filter((l) => !blank(l)).length;
  if (!filled) return lines.map(() => '');
  let inputs: unknown[];
  try {
    inputs = t.readInputs(lines.join('\n'), file, instance);
  } catch (e) {
    // the readers number lines from 1: restate the line in the whole input
    if (firstLine > 1 && e instanceof Error) e.message = e.message.replace(new RegExp(`^(${escapeRegExp(file)}):(\\d+)`), (_m, f: string, n: string) => `${f}:${Number(n) + firstLine - 1}`);
    throw e;
  }
  if (inputs.length !== filled) throw new Error(`predict: ${inputs.length} inputs read from ${filled} non-empty lines`);
  t.checkInputs?.(inputs, lines.filter((l) => !blank(l)), lines.map((l, i) => (blank(l) ? 0 : firstLine + i)).filter((n) => n), file, instance);
  const outputs = await t.driver.predictAsync(instance, inputs, o); // on any backend (a GPU's are awaited)
  let k = 0;
  return lines.map((l) => {
    if (blank(l)) return o.json ? 'null' : '';
    const f = t.format(inputs[k], outputs[k]);
    k++;
    return o.json ? JSON.stringify(f.json) : f.line;
  });
}

/** Standard input is a regular file (read at once) or a terminal / pipe / socket (read line by line). */
export function stdinIsFile(): boolean {
  try {
    return fstatSync(0).isFile();
  } catch {
    return false;
  }
}

/** Reads standard input line by line, calling `chunk` with the lines that arrived together and their first line number. */
export async function streamLines(chunk: (lines: string[], firstLine: number) => void | Promise<void>): Promise<number> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  let pending: string[] = [];
  let next = 1;
  let failure: unknown = null;
  let answering: Promise<void> = Promise.resolve(); // chunks are answered one after another, in order
  const flush = () => {
    if (!pending.length || failure) return;
    const lines = pending;
    const first = next;
    pending = [];
    next += lines.length;
    answering = answering.then(async () => {
      if (failure) return;
      try {
        await chunk(lines, first);
      } catch (e) {
        failure = e;
        rl.close();
      }
    });
  };
  let scheduled = false;
  rl.on('line', (line) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => { scheduled = false; flush(); });
    }
  });
  await new Promise<void>((resolve) => rl.once('close', resolve));
  flush();
  await answering;
  if (failure) throw failure;
  return next - 1;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
