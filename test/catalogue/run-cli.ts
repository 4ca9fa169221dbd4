// Runs `qkv` in this process (cli/main.ts) with stdout and stderr captured, so a catalogue of
// hundreds of bad inputs costs milliseconds each instead of a process start each.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: readonly string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const [ow, ew] = [process.stdout.write, process.stderr.write];
  // qkv writes strings; the test runner's own reports (serialized, as bytes, on stdout) pass
  // through, or the results of tests that finish meanwhile would be swallowed
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof c !== 'string') return (ow as (...a: unknown[]) => boolean).call(process.stdout, c, ...rest);
    out.push(c);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => { err.push(String(c)); return true; }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['node', 'qkv', ...args]);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Every file under `root` with a hash of its bytes (directories as entries too). */
export function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const s = statSync(p);
      if (s.isDirectory()) { files.set(p, 'dir'); walk(p); } else files.set(p, createHash('sha1').update(readFileSync(p)).digest('hex'));
    }
  };
  if (existsSync(root)) walk(root);
  return files;
}

/** The paths of `before` that are gone or changed in `after`. */
export function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before].filter(([p, h]) => after.get(p) !== h).map(([p]) => p);
}
