// The power spectrum of real frames by an iterative radix-2 FFT (float64), for the log-mel
// front end. Sizes are powers of two (Kaldi pads each window to one).

/** |FFT(frame)|² for bins 0..n/2, where n = frame.length is a power of two. */
export class PowerSpectrum {
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array;

  constructor(readonly n: number) {
    if (n < 2 || (n & (n - 1)) !== 0) throw new RangeError(`FFT size ${n} is not a power of two`);
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    this.cos = Float64Array.from({ length: n / 2 }, (_, k) => Math.cos((-2 * Math.PI * k) / n));
    this.sin = Float64Array.from({ length: n / 2 }, (_, k) => Math.sin((-2 * Math.PI * k) / n));
    const bits = Math.log2(n);
    this.rev = Uint32Array.from({ length: n }, (_, i) => {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      return r;
    });
  }

  /** Writes n/2 + 1 powers of `frame` (length n) into `out`. */
  compute(frame: Float64Array, out: Float64Array): void {
    const { n, re, im, rev } = this;
    for (let i = 0; i < n; i++) { re[rev[i]!] = frame[i]!; im[rev[i]!] = 0; }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const c = this.cos[k * step]!;
          const s = this.sin[k * step]!;
          const a = start + k;
          const b = a + half;
          const tr = re[b]! * c - im[b]! * s;
          const ti = re[b]! * s + im[b]! * c;
          re[b] = re[a]! - tr; im[b] = im[a]! - ti;
          re[a]! += tr; im[a]! += ti;
        }
      }
    }
    for (let k = 0; k <= n / 2; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  }
}
