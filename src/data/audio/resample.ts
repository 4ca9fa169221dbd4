// Sample-rate conversion by band-limited (windowed-sinc) interpolation, the filter of
// torchaudio.functional.resample's default: a sinc low-pass at 0.99 of the lower Nyquist
// frequency (rolloff), cut to ±6 zero crossings (lowpassFilterWidth) and shaped by a Hann
// window (cos² taper). Both rates are reduced by their gcd, so 16000 -> 8000 is a 2:1
// polyphase filter, and each output sample is one dot product. Output length is
// ceil(n · to / from), as torchaudio's.
// Rates whose gcd is small (11127 -> 16000 reduces to 11127:16000) would need a table of
// next × (orig + 2·width) weights (1.4 GB there, as torchaudio builds): past POLYPHASE_LIMIT
// weights, each output sample computes its own ~2·width weights from the same formula instead
// (the weight of input m in output i depends only on m/from − i/to), so time and memory stay
// linear in the signal whatever the rates.

export interface ResampleOptions {
  /** Zero crossings of the sinc kept on each side (default 6). */
  lowpassFilterWidth?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (default 0.99). */
  rolloff?: number;
  /** Largest polyphase table (weights) to build; beyond it weights are computed per output sample (default 2^20). */
  polyphaseLimit?: number;
}

export const POLYPHASE_LIMIT = 1 << 20;

/** The windowed-sinc weight at t (in units of the cut-off's period), torchaudio's sinc_interp_hann. */
function weight(t: number, zeros: number): number {
  t = Math.max(-zeros, Math.min(zeros, t));
  const window = Math.cos((t * Math.PI) / zeros / 2) ** 2;
  const a = t * Math.PI;
  return (a === 0 ? 1 : Math.sin(a) / a) * window;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** `x` sampled at `from` Hz, resampled to `to` Hz. */
export function resample(x: Float32Array, from: number, to: number, options: ResampleOptions = {}): Float32Array {
  if (from === to) return x;
  const { lowpassFilterWidth: zeros = 6, rolloff = 0.99, polyphaseLimit = POLYPHASE_LIMIT } = options;
  if (!(Number.isInteger(from) && from > 0 && Number.isInteger(to) && to > 0)) throw new RangeError(`resample: rates must be positive integers, got ${from} -> ${to} Hz`);
  const g = gcd(from, to);
  const orig = from / g;
  const next = to / g;
  const base = Math.min(orig, next) * rolloff;
  const width = Math.ceil((zeros * orig) / base);
  const taps = 2 * width + orig;
  if (next * taps > polyphaseLimit) return resampleDirect(x, from, to, zeros, rolloff);
  // kernel[j][k]: weight of input sample (n·orig − width + k) in output sample n·next + j
  const kernel = new Float64Array(next * taps);
  for (let j = 0; j < next; j++) {
    for (let k = 0; k < taps; k++) {
      kernel[j * taps + k] = weight((-j / next + (k - width) / orig) * base, zeros) * (base / orig);
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

/**
 * The same filter without a table: output i (at time i/to) sums input m (at m/from) with weight
 * w((m/from − i/to)·min(from, to)·rolloff)·min(from, to)·rolloff/from, over the inputs within
 * ±zeros of the cut-off's period, about 2·zeros·from/(min(from, to)·rolloff) of them.
 */
function resampleDirect(x: Float32Array, from: number, to: number, zeros: number, rolloff: number): Float32Array {
  const cutoff = Math.min(from, to) * rolloff; // Hz
  const scale = cutoff / from;
  const reach = (zeros * from) / cutoff; // input samples on each side
  const n = x.length;
  const y = new Float32Array(Math.ceil((to * n) / from));
  for (let i = 0; i < y.length; i++) {
    const centre = (i * from) / to; // output i's time in input samples
    const lo = Math.max(0, Math.ceil(centre - reach));
    const hi = Math.min(n - 1, Math.floor(centre + reach));
    let s = 0;
    for (let m = lo; m <= hi; m++) s += weight((m / from - i / to) * cutoff, zeros) * x[m]!;
    y[i] = s * scale;
  }
  return y;
}
