// Whisper's own log-mel front end (transformers' WhisperFeatureExtractor; not Kaldi's fbank,
// which fbank.ts implements): the samples padded with zeros (or cut) to 30 s, a centred STFT
// (reflect padding of n_fft/2, periodic Hann window of n_fft = 400, hop 160), the power spectrum,
// Slaney-style mel filters (Slaney-normalised, 0..8 kHz), log10 of max(mel, 1e-10), every value
// clamped to at least the maximum - 8, then (x + 4) / 4. The last STFT frame is dropped, so 30 s
// at 16 kHz give 3000 frames.
import { DataError } from '../errors.js';

export interface WhisperFeatureConfig {
  /** Mel bins (feature_size): 80, or 128 for large-v3. */
  featureSize: number;
  samplingRate: number;
  hopLength: number;
  nFft: number;
  /** Samples the input is padded or cut to (chunk_length · sampling_rate). */
  nSamples: number;
}

type Json = Record<string, unknown>;

/** preprocessor_config.json of a WhisperFeatureExtractor. */
export function whisperFeatureConfigFromJson(json: Json, file = 'preprocessor_config.json'): WhisperFeatureConfig {
  const int = (name: string, fallback: number): number => {
    const v = json[name] ?? fallback;
    if (!Number.isInteger(v) || (v as number) <= 0) throw new DataError(file, null, `"${name}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  if (json.dither !== undefined && json.dither !== 0 && json.dither !== 0.0) throw new DataError(file, null, `"dither" = ${JSON.stringify(json.dither)} is not supported (qkv implements 0)`);
  if (json.do_normalize === true) throw new DataError(file, null, '"do_normalize": true is not supported');
  const samplingRate = int('sampling_rate', 16000);
  return {
    featureSize: int('feature_size', 80), samplingRate, hopLength: int('hop_length', 160), nFft: int('n_fft', 400),
    nSamples: int('n_samples', int('chunk_length', 30) * samplingRate),
  };
}

const hzToMel = (f: number): number => (f < 1000 ? (3 * f) / 200 : 15 + (Math.log(f / 1000) * 27) / Math.log(6.4));
const melToHz = (m: number): number => (m < 15 ? (200 * m) / 3 : 1000 * Math.exp((Math.log(6.4) * (m - 15)) / 27));

/** (mels × (nFft/2 + 1)) row-major: transformers' mel_filter_bank(norm="slaney", mel_scale="slaney"), 0 Hz to sr/2. */
export function whisperMelFilters(nFft: number, mels: number, samplingRate: number): Float64Array {
  const bins = nFft / 2 + 1;
  const fft = Float64Array.from({ length: bins }, (_, k) => (k * samplingRate) / 2 / (bins - 1));
  const top = hzToMel(samplingRate / 2);
  const f = Float64Array.from({ length: mels + 2 }, (_, i) => melToHz((top * i) / (mels + 1)));
  const out = new Float64Array(mels * bins);
  for (let i = 0; i < mels; i++) {
    const enorm = 2 / (f[i + 2]! - f[i]!);
    for (let k = 0; k < bins; k++) {
      const down = (fft[k]! - f[i]!) / (f[i + 1]! - f[i]!);
      const up = (f[i + 2]! - fft[k]!) / (f[i + 2]! - f[i + 1]!);
      out[i * bins + k] = Math.max(0, Math.min(down, up)) * enorm;
    }
  }
  return out;
}

/** Samples (mono, at the config's rate, values in [-1, 1]) -> log-mel features (featureSize × frames), row-major. */
export function whisperLogMel(samples: Float32Array, c: WhisperFeatureConfig): { data: Float32Array; frames: number } {
  const { nFft, hopLength: hop, featureSize: mels } = c;
  const n = c.nSamples;
  const half = nFft / 2;
  // zero padding to 30 s, then reflect padding of n_fft / 2 at both ends (torch.stft, center=True)
  const x = new Float64Array(n + 2 * half);
  for (let i = 0; i < n; i++) x[half + i] = i < samples.length ? samples[i]! : 0;
  for (let i = 1; i <= half; i++) {
    x[half - i] = x[half + i]!;
    x[half + n - 1 + i] = x[half + n - 1 - i]!;
  }
  const frames = n / hop; // 1 + n/hop STFT frames, the last dropped
  const bins = half + 1;
  const window = Float64Array.from({ length: nFft }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nFft)); // periodic Hann
  const cos = new Float64Array(bins * nFft);
  const sin = new Float64Array(bins * nFft);
  for (let k = 0; k < bins; k++) {
    for (let t = 0; t < nFft; t++) {
      const a = (2 * Math.PI * ((k * t) % nFft)) / nFft;
      cos[k * nFft + t] = Math.cos(a);
      sin[k * nFft + t] = Math.sin(a);
    }
  }
  const filters = whisperMelFilters(nFft, mels, c.samplingRate);
  const logMel = new Float64Array(mels * frames);
  const frame = new Float64Array(nFft);
  const power = new Float64Array(bins);
  let max = -Infinity;
  for (let f = 0; f < frames; f++) {
    let silent = true;
    for (let t = 0; t < nFft; t++) {
      frame[t] = x[f * hop + t]! * window[t]!;
      if (frame[t] !== 0) silent = false;
    }
    for (let k = 0; k < bins; k++) {
      if (silent) { power[k] = 0; continue; } // the zero padding of a short clip: no DFT needed
      let re = 0;
      let im = 0;
      const row = k * nFft;
      for (let t = 0; t < nFft; t++) {
        re += frame[t]! * cos[row + t]!;
        im -= frame[t]! * sin[row + t]!;
      }
      power[k] = re * re + im * im;
    }
    for (let m = 0; m < mels; m++) {
      let s = 0;
      for (let k = 0; k < bins; k++) s += filters[m * bins + k]! * power[k]!;
      const v = Math.log10(Math.max(s, 1e-10));
      logMel[m * frames + f] = v;
      if (v > max) max = v;
    }
  }
  const data = new Float32Array(mels * frames);
  for (let i = 0; i < data.length; i++) data[i] = (Math.max(logMel[i]!, max - 8) + 4) / 4;
  return { data, frames };
}
