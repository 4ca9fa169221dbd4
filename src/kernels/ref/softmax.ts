// Softmax and log-softmax over rows, and their gradients. Max-subtracted for stability.

// A row that is all -Infinity (every position masked) gives zeros, not NaN: attention with
// nothing to attend to outputs nothing. Masked (-Infinity) entries get exactly 0.
export function softmax(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[base + c]!);
    if (m === -Infinity) {
      out.fill(0, base, base + cols);
      continue;
    }
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[base + c]! - m);
    for (let c = 0; c < cols; c++) out[base + c] = Math.exp(x[base + c]! - m) / s;
  }
}

export function logSoftmax(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[base + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[base + c]! - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) out[base + c] = x[base + c]! - lse;
  }
}

export function softmaxGrad(y: Float32Array, dy: Float32Array, rows: number, cols: number, dx: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[base + c]! * y[base + c]!;
    for (let c = 0; c < cols; c++) dx[base + c] = y[base + c]! * (dy[base + c]! - dot);
  }
}

export function logSoftmaxGrad(y: Float32Array, dy: Float32Array, rows: number, cols: number, dx: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) s += dy[base + c]!;
    for (let c = 0; c < cols; c++) dx[base + c] = dy[base + c]! - Math.exp(y[base + c]!) * s;
  }
}
