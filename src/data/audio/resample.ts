// Sample-rate conversion by band-limited (windowed-sinc) interpolation, the filter of
// torchaudio.functional.resample's default: a sinc low-pass at 0.99 of the lower Nyquist
// frequency (rolloff), cut to ±6 zero crossings (lowpassFilterWidth) and shaped by a Hann
// window (cos² taper). Both rates are reduced by their gcd, so 16000 -> 8000 is a 2:1
// polyphase filter, and each output sample is one dot product. Output length is
// ceil(n · to / from), as torchaudio's.

export interface ResampleOptions {
  /** Zero crossings of the sinc kept on each side (default 6). */
  lowpassFilterWidth?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (default 0.99). */
  rolloff?: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** `x` sampled at `from` Hz, resampled to `to` Hz. */
export function resample(x: Float32Array, from: number, to: number, options: ResampleOptions = {}): Float32Array {
  if (from === to) return x;
  const { lowpassFilterWidth: zeros = 6, rolloff = 0.99 } = options;
  const g = gcd(from, to);
  const orig = from / g;
  const next = to / g;
  const base = Math.min(orig, next) * rolloff;
  const width = Math.ceil((zeros * orig) / base);
  const taps = 2 * width + orig;
  // kernel[j][k]: weight of input sample (n·orig − width + k) in output sample n·next + j
  const kernel = new Float64Array(next * taps);
  for (let j = 0; j < next; j++) {
    for (let k = 0; k < taps; k++) {
      let t = (-j / next + (k - width) / orig) * base;
      t = Math.max(-zeros, Math.min(zeros, t));
      const window = Math.cos((t * Math.PI) / zeros / 2) ** 2;
      const a = t * Math.PI;
      kernel[j * taps + k] = (a === 0 ? 1 : Math.sin(a) / a) * window * (base / orig);
    }
  }
  const n = x.length;
  const outLength = Math.ceil((next * n) / orig);
  const y = new Float32Array(outLength);
  for (let i = 0; i < outLength; i++) {
    const block = Math.floor(i / next);
    const j = i - block * next;
    const start = block * orig - width; // input index of tap 0 (zero outside the signal)
    let s = 0;
    for (let k = Math.max(0, -start); k < taps && start + k < n; k++) s += kernel[j * taps + k]! * x[start + k]!;
    y[i] = s;
  }
  return y;
}
