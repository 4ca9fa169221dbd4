// Max-pooling over the whole last axis of a contiguous [rows, cols] float32 array, with the
// index of each maximum, and its gradient: one scatter of dy to those indices (PyTorch's
// max_pool1d with return_indices, the window the whole row). Ties go to the first maximum and a
// NaN wins (the first one), as ArgMax and PyTorch's CPU kernel choose.

export function maxPool(x: Float32Array, rows: number, cols: number, values: Float32Array, indices: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let best = x[base]!;
    let at = 0;
    for (let c = 1; c < cols && best === best; c++) {
      const v = x[base + c]!;
      if (v > best || v !== v) { best = v; at = c; }
    }
    values[r] = best;
    indices[r] = at;
  }
}

/** An index outside [0, cols) leaves its row 0 (never a write into a neighbour). */
export function maxPoolGrad(dy: Float32Array, indices: Int32Array, rows: number, cols: number, dx: Float32Array): void {
  dx.fill(0, 0, rows * cols);
  for (let r = 0; r < rows; r++) {
    const at = indices[r]!;
    if (at >= 0 && at < cols) dx[r * cols + at] = dy[r]!;
  }
}
