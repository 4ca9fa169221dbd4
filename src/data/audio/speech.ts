// From a WAV file's bytes to the vectors a sequence model reads: decode, mix to mono,
// resample to the front end's rate, log-mel frames. And `path<TAB>label` lists of WAV files:
//   a.wav<TAB>yes                         classify: one label per recording
//   a.wav<TAB>sil sil s s ...             tag: one label per 10 ms frame (the count must match)
//   a.wav<TAB>0-0.31:sil 0.31-0.52:s ...  tag: time-aligned segments in seconds; each frame
//                                          takes the label of the segment holding its centre
// Paths are relative to the list's folder. Pure: files come through `load`, so this also runs
// in browsers; src/data/files.ts gives Node's.
import type { ClassifiedExample, TaggedExample } from '../types.js';
import { DataError } from '../errors.js';
import { fail, nonEmpty, numberedLines, origin } from '../text.js';
import { DEFAULT_LOG_MEL, frameGeometry, logMel, type LogMelConfig, WINDOW_KINDS } from './fbank.js';
import { resample } from './resample.js';
import { parseWav, toMono } from './wav.js';

/** What a model trained on audio saves in its checkpoint, so it predicts on the same features. */
export interface AudioFrontEnd extends LogMelConfig {
  kind: 'logmel';
  /** The resampling filter, for `qkv info`. */
  resampler: string;
}

export const RESAMPLER = 'windowed sinc (Hann, 6 zero crossings, rolloff 0.99; torchaudio sinc_interp_hann)';

/** The front end with `overrides` on the defaults, checked. */
export function audioFrontEnd(overrides: Partial<LogMelConfig> = {}): AudioFrontEnd {
  const c: AudioFrontEnd = { kind: 'logmel', ...DEFAULT_LOG_MEL, ...overrides, resampler: RESAMPLER };
  const bad = (what: string) => { throw new DataError('front end', null, what); };
  if (!Number.isInteger(c.sampleRate) || c.sampleRate < 1000) bad(`sample rate must be an integer >= 1000 Hz, got ${c.sampleRate}`);
  if (!Number.isInteger(c.numMelBins) || c.numMelBins < 1) bad(`mel bins must be a positive integer, got ${c.numMelBins}`);
  if (!WINDOW_KINDS.includes(c.window)) bad(`window must be one of ${WINDOW_KINDS.join(', ')}, got ${c.window}`);
  if (frameGeometry(c).shift < 1 || frameGeometry(c).length < 2) bad('frames of under 2 samples');
  return c;
}

/** Rates a file may have: what the front end's rate may be set to (below 1 kHz is not audio qkv models; above, resampling costs grow). */
export const WAV_RATES = [1000, 384000] as const;
/**
 * The longest clip read (10 minutes: 60,000 frames of 10 ms): every frame is a position of the
 * model, and attention over a longer one does not fit in memory. Longer recordings are split first.
 */
export const MAX_WAV_SECONDS = 600;

/** Log-mel frames of one WAV file (bytes), at the front end's rate: (T, numMelBins). */
export function wavFeatures(bytes: Uint8Array, file: string, fe: AudioFrontEnd): number[][] {
  const wav = parseWav(bytes, file);
  // checked before resampling or framing allocates anything (a 1 Hz header makes hours of audio)
  if (wav.sampleRate < WAV_RATES[0] || wav.sampleRate > WAV_RATES[1]) throw new DataError(file, null, `sample rate ${wav.sampleRate} Hz: qkv reads WAV files at ${WAV_RATES[0]} to ${WAV_RATES[1]} Hz`);
  const seconds = wav.data[0]!.length / wav.sampleRate;
  if (seconds > MAX_WAV_SECONDS) throw new DataError(file, null, `${(seconds / 60).toFixed(1)} minutes of audio: at most ${MAX_WAV_SECONDS / 60} minutes a clip (each 10 ms frame is a position of the model); split the recording`);
  const mono = resample(toMono(wav), wav.sampleRate, fe.sampleRate);
  const rows = logMel(mono, fe);
  if (!rows.length) {
    const ms = ((wav.data[0]!.length / wav.sampleRate) * 1000).toFixed(1);
    throw new DataError(file, null, `audio of ${ms} ms is shorter than one ${fe.frameLengthMs} ms window`);
  }
  return rows.map((r) => Array.from(r));
}

/** Frame t's centre in seconds. */
function frameCentre(t: number, fe: AudioFrontEnd): number {
  const { length, shift } = frameGeometry(fe);
  return (t * shift + length / 2) / fe.sampleRate;
}

const SEGMENT = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?):(.+)$/;

function frameLabels(field: string, T: number, fe: AudioFrontEnd, file: string, line: number, wavPath: string): string[] {
  const parts = field.split(/\s+/);
  if (!parts.every((p) => SEGMENT.test(p))) {
    if (parts.length !== T) fail(file, line, `${parts.length} labels for ${T} frames of ${wavPath} (one per ${fe.frameShiftMs} ms frame, or start-end:label segments)`);
    return parts;
  }
  const segs = parts.map((p) => { const m = SEGMENT.exec(p)!; return { start: Number(m[1]), end: Number(m[2]), label: m[3]! }; });
  return Array.from({ length: T }, (_, t) => {
    const c = frameCentre(t, fe);
    const s = segs.find((g) => c >= g.start && c < g.end);
    if (!s) fail(file, line, `no segment covers frame ${t} (${c.toFixed(3)} s) of ${wavPath}`);
    return s.label;
  });
}

export interface WavListOptions {
  mode: 'tag' | 'classify';
  frontEnd: AudioFrontEnd;
  /** Reads a file's bytes (its errors should name the path). */
  load: (path: string) => Uint8Array;
  /** Joins the list's folder and a relative path. */
  resolve: (listFile: string, path: string) => string;
}

/** Reads a list of WAV files with labels into examples with log-mel `frames`. */
export function readWavList(text: string, file: string, o: WavListOptions & { mode: 'classify' }): ClassifiedExample[];
export function readWavList(text: string, file: string, o: WavListOptions & { mode: 'tag' }): TaggedExample[];
export function readWavList(text: string, file: string, o: WavListOptions): ClassifiedExample[] | TaggedExample[];
export function readWavList(text: string, file: string, o: WavListOptions): ClassifiedExample[] | TaggedExample[] {
  const out: (ClassifiedExample | TaggedExample)[] = [];
  for (const { text: raw, line } of numberedLines(text)) {
    if (raw.trim() === '') continue;
    const tab = raw.indexOf('\t');
    if (tab < 0) fail(file, line, `no tab: expected path<TAB>${o.mode === 'tag' ? 'labels' : 'label'}`);
    const path = raw.slice(0, tab).trim();
    const rest = raw.slice(tab + 1).trim();
    if (!path) fail(file, line, 'empty path');
    if (!rest) fail(file, line, 'empty label');
    const wavPath = o.resolve(file, path);
    const frames = wavFeatures(o.load(wavPath), wavPath, o.frontEnd);
    if (o.mode === 'classify') {
      if (/\s/.test(rest)) fail(file, line, `one label per recording expected, found "${rest}"`);
      out.push({ frames, label: rest, origin: origin(file, line) });
    } else {
      out.push({ frames, labels: frameLabels(rest, frames.length, o.frontEnd, file, line, wavPath), origin: origin(file, line) });
    }
  }
  return nonEmpty(out, file) as ClassifiedExample[] | TaggedExample[];
}
