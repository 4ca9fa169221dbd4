// The log-mel front end (lecture: a sound signal becomes one vector per 25 ms window, moved
// 10 ms). It follows Kaldi's compute-fbank, as torchaudio.compliance.kaldi.fbank does, step
// for step: frames of 25 ms every 10 ms (only whole windows: snip_edges), DC offset removed,
// pre-emphasis 0.97, a Povey window (Hann^0.85; or Hann / Hamming), zero-padded to a power of
// two, power spectrum, triangular mel filters (mel = 1127 ln(1 + f/700)) from 20 Hz to
// Nyquist, log with a floor (float32 epsilon), then optional per-utterance mean/variance
// normalisation. Samples in [-1, 1] are first scaled by `scale` (default 32768, the 16-bit
// range Kaldi's features assume), so values match Kaldi's on the same recording.
import { PowerSpectrum } from './fft.js';

export type WindowKind = 'povey' | 'hann' | 'hamming';
export const WINDOW_KINDS: readonly WindowKind[] = ['povey', 'hann', 'hamming'];

export interface LogMelConfig {
  /** Rate the features are computed at (input is resampled to it). */
  sampleRate: number;
  frameLengthMs: number;
  frameShiftMs: number;
  numMelBins: number;
  window: WindowKind;
  preemphasis: number;
  removeDcOffset: boolean;
  lowFreq: number;
  /** Upper edge of the filters; <= 0 means Nyquist + highFreq, as Kaldi. */
  highFreq: number;
  /** log(max(energy, floor)). */
  floor: number;
  /** Samples are multiplied by this before the FFT. */
  scale: number;
  /** Per-utterance normalisation of each mel channel: none, subtract the mean, or mean and variance. */
  normalize: 'none' | 'mean' | 'meanvar';
}

export const DEFAULT_LOG_MEL: LogMelConfig = {
  sampleRate: 16000, frameLengthMs: 25, frameShiftMs: 10, numMelBins: 80, window: 'povey', preemphasis: 0.97, removeDcOffset: true,
  lowFreq: 20, highFreq: 0, floor: 1.1920928955078125e-7, scale: 32768, normalize: 'none',
};

const mel = (f: number) => 1127 * Math.log(1 + f / 700);

/** Window length, shift and FFT size in samples. */
export function frameGeometry(c: LogMelConfig): { length: number; shift: number; fft: number } {
  const length = Math.floor(c.sampleRate * c.frameLengthMs * 0.001);
  const shift = Math.floor(c.sampleRate * c.frameShiftMs * 0.001);
  return { length, shift, fft: 2 ** Math.ceil(Math.log2(length)) };
}

/** Number of frames for `n` samples (whole windows only). */
export function numFrames(n: number, c: LogMelConfig): number {
  const { length, shift } = frameGeometry(c);
  return n < length ? 0 : 1 + Math.floor((n - length) / shift);
}

/** The window function, `length` points. */
export function windowFunction(kind: WindowKind, length: number): Float64Array {
  const a = (2 * Math.PI) / (length - 1);
  return Float64Array.from({ length }, (_, i) => {
    if (kind === 'hamming') return 0.54 - 0.46 * Math.cos(a * i);
    const hann = 0.5 - 0.5 * Math.cos(a * i);
    return kind === 'povey' ? hann ** 0.85 : hann;
  });
}

/** Triangular mel filters over the FFT bins: (numMelBins, fft/2 + 1), row-major. */
export function melFilters(c: LogMelConfig, fft: number): Float64Array {
  const bins = fft / 2 + 1;
  const nyquist = c.sampleRate / 2;
  const high = c.highFreq <= 0 ? nyquist + c.highFreq : c.highFreq;
  const [lo, hi] = [mel(c.lowFreq), mel(high)];
  const delta = (hi - lo) / (c.numMelBins + 1);
  const out = new Float64Array(c.numMelBins * bins); // Kaldi leaves the Nyquist bin out: its column stays 0
  for (let m = 0; m < c.numMelBins; m++) {
    const [left, center, right] = [lo + m * delta, lo + (m + 1) * delta, lo + (m + 2) * delta];
    for (let k = 0; k < bins - 1; k++) {
      const f = mel((c.sampleRate / fft) * k);
      const w = Math.min((f - left) / (center - left), (right - f) / (right - center));
      if (w > 0) out[m * bins + k] = w;
    }
  }
  return out;
}

/** Log-mel features of mono samples at `config.sampleRate`: (frames, numMelBins) as rows. */
export function logMel(samples: Float32Array, config: Partial<LogMelConfig> = {}): Float32Array[] {
  const c = { ...DEFAULT_LOG_MEL, ...config };
  const { length, shift, fft } = frameGeometry(c);
  const T = numFrames(samples.length, c);
  const window = windowFunction(c.window, length);
  const filters = melFilters(c, fft);
  const bins = fft / 2 + 1;
  const spectrum = new PowerSpectrum(fft);
  const frame = new Float64Array(fft);
  const power = new Float64Array(bins);
  const rows: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    const at = t * shift;
    let mean = 0;
    for (let i = 0; i < length; i++) mean += (frame[i] = samples[at + i]! * c.scale);
    mean = c.removeDcOffset ? mean / length : 0;
    for (let i = 0; i < length; i++) frame[i]! -= mean;
    // pre-emphasis x[i] - p·x[i-1], the first sample against itself (Kaldi)
    for (let i = length - 1; i > 0; i--) frame[i]! -= c.preemphasis * frame[i - 1]!;
    frame[0]! -= c.preemphasis * frame[0]!;
    for (let i = 0; i < length; i++) frame[i]! *= window[i]!;
    frame.fill(0, length);
    spectrum.compute(frame, power);
    const row = new Float32Array(c.numMelBins);
    for (let m = 0; m < c.numMelBins; m++) {
      let e = 0;
      for (let k = 0; k < bins; k++) e += filters[m * bins + k]! * power[k]!;
      row[m] = Math.log(Math.max(e, c.floor));
    }
    rows.push(row);
  }
  if (c.normalize !== 'none') normalizeUtterance(rows, c.normalize === 'meanvar');
  return rows;
}

/** Subtracts each channel's mean over the utterance (and divides by its deviation), in place. */
export function normalizeUtterance(rows: Float32Array[], variance: boolean): void {
  if (!rows.length) return;
  const D = rows[0]!.length;
  for (let d = 0; d < D; d++) {
    let mean = 0;
    for (const r of rows) mean += r[d]!;
    mean /= rows.length;
    let v = 0;
    for (const r of rows) v += (r[d]! - mean) ** 2;
    const std = variance ? Math.sqrt(v / rows.length) : 1;
    for (const r of rows) r[d] = (r[d]! - mean) / (variance ? Math.max(std, 1e-5) : 1);
  }
}
