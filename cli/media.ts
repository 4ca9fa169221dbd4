// Inputs a model reads through a front end (WAV files -> log-mel frames): `qkv predict`
// takes a file path (--input x.wav) or a list of paths (one per line, anything after a tab
// ignored), and reads each with the front end saved in the checkpoint.
import { data, readBinaryFile, readTextFile, resolveListPath, type TaskInstance } from '../src/index.js';
import { UsageError } from './shared.js';

/** The front end a checkpoint was trained with, if any. */
export function frontEndOf(instance: TaskInstance): data.FrontEnd | null {
  return (instance.config as { featurizer?: { frontEnd?: data.FrontEnd } }).featurizer?.frontEnd ?? null;
}

const isWav = (bytes: Uint8Array) => bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF';

/** Features of one media file, named in every error. */
function features(path: string, fe: data.FrontEnd): { path: string; frames: number[][] } {
  return { path, frames: data.wavFeatures(readBinaryFile(path), path, fe) };
}

/** Inputs for predict: `--input` a media file or a list of paths (file or standard input). */
export function mediaInputs(input: string | undefined, readStdin: () => string, fe: data.FrontEnd): { path: string; frames: number[][] }[] {
  if (input) {
    const bytes = readBinaryFile(input);
    if (isWav(bytes) || /\.wav$/i.test(input)) return [features(input, fe)];
  }
  const text = input ? readTextFile(input) : readStdin();
  const list = input ?? '<stdin>';
  const paths = text.split(/\r?\n/).map((l) => l.split('\t')[0]!.trim()).filter((l) => l);
  if (!paths.length) throw new UsageError(`${list}: no input paths (this model reads WAV files: give --input FILE.wav or a list of paths)`);
  return paths.map((p) => features(input ? resolveListPath(input, p) : p, fe));
}
