// Layer normalisation over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta,
// with the biased variance (as PyTorch). mean and rstd are saved for the backward pass.

export function layerNorm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, rows: number,
  cols: number, eps: number, y: Float32Array, mean: Float32Array, rstd: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[base + c]!;
    const mu = s / cols;
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[base + c]! - mu) ** 2;
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[base + c]! - mu) * rs;
      y[base + c] = xhat * (gamma ? gamma[c]! : 1) + (beta ? beta[c]! : 0);
    }
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), with g = dy * gamma.
export function layerNormGrad(x: Float32Array, gamma: Float32Array | null, mean: Float32Array, rstd: Float32Array,
  dy: Float32Array, rows: number, cols: number, dx: Float32Array, dgamma: Float32Array | null,
  dbeta: Float32Array | null): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const mu = mean[r]!;
    const rs = rstd[r]!;
    let sg = 0;
    let sgx = 0;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[base + c]! - mu) * rs;
      const g = dy[base + c]! * (gamma ? gamma[c]! : 1);
      sg += g;
      sgx += g * xhat;
      if (dgamma) dgamma[c]! += dy[base + c]! * xhat;
      if (dbeta) dbeta[c]! += dy[base + c]!;
    }
    sg /= cols;
    sgx /= cols;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[base + c]! - mu) * rs;
      const g = dy[base + c]! * (gamma ? gamma[c]! : 1);
      dx[base + c] = rs * (g - sg - xhat * sgx);
    }
  }
}
