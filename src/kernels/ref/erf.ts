// erf by Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7 everywhere, about float32's
// own resolution near 1, at the cost of one exp. (GELU needs erf per activation, so it must be cheap.)
const P = 0.3275911;
const A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;

export function erf(x: number): number {
  const ax = Math.abs(x);
  const t = 1 / (1 + P * ax);
  const poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
  const y = 1 - poly * Math.exp(-ax * ax);
  return x < 0 ? -y : y;
}
