// The moves around Conv1d's GEMMs on wasm (src/kernels/wasm/conv.ts does the products): PyTorch's
// layout x [B, Cin, L], y [B, Cout, Lout]. The column matrix col [(b, t), (ci, k)] holds
// x[b, ci, t·stride + k·dilation − padLeft], 0 in the padding, so a convolution is one GEMM with
// B·Lout rows (native/src/conv.h does the same). Addresses in bytes, sizes in elements.

/** col[(b, t), ci·K + k] = x[b, ci, t·stride + k·dilation − padLeft] (0 outside [0, L)). */
export function im2col(x: usize, col: usize, batch: i32, cin: i32, length: i32, kernel: i32, outLength: i32,
  stride: i32, padLeft: i32, dilation: i32): void {
  const cols = cin * kernel;
  let row = col;
  for (let b = 0; b < batch; b++) {
    const xb = x + ((<usize>b * <usize>cin * <usize>length) << 2);
    for (let t = 0; t < outLength; t++) {
      const start = t * stride - padLeft;
      for (let ci = 0; ci < cin; ci++) {
        const xr = xb + ((<usize>ci * <usize>length) << 2);
        const dst = row + ((<usize>ci * <usize>kernel) << 2);
        let pos = start;
        for (let k = 0; k < kernel; k++, pos += dilation) {
          store<f32>(dst + (<usize>k << 2), pos >= 0 && pos < length ? load<f32>(xr + (<usize>pos << 2)) : 0);
        }
      }
      row += <usize>cols << 2;
    }
  }
}

/** dx[b, ci, pos] = Σ of the dcol entries that read x[b, ci, pos] (dx is overwritten). */
export function col2im(dcol: usize, dx: usize, batch: i32, cin: i32, length: i32, kernel: i32, outLength: i32,
  stride: i32, padLeft: i32, dilation: i32): void {
  const cols = cin * kernel;
  memory.fill(dx, 0, (<usize>batch * <usize>cin * <usize>length) << 2);
  let row = dcol;
  for (let b = 0; b < batch; b++) {
    const dxb = dx + ((<usize>b * <usize>cin * <usize>length) << 2);
    for (let t = 0; t < outLength; t++) {
      const start = t * stride - padLeft;
      for (let ci = 0; ci < cin; ci++) {
        const dxr = dxb + ((<usize>ci * <usize>length) << 2);
        const src = row + ((<usize>ci * <usize>kernel) << 2);
        let pos = start;
        for (let k = 0; k < kernel; k++, pos += dilation) {
          if (pos >= 0 && pos < length) {
            const at = dxr + (<usize>pos << 2);
            store<f32>(at, load<f32>(at) + load<f32>(src + (<usize>k << 2)));
          }
        }
      }
      row += <usize>cols << 2;
    }
  }
}

/**
 * A transpose of each of `batch` matrices: dst[b, c, r] = src[b, r, c] for src [batch, rows, cols].
 * Conv1d's yT [(b, t), co] to y [b, co, t] (rows = Lout, cols = Cout) and dy to dyT (rows = Cout,
 * cols = Lout). Blocks of 8×8 keep both sides' lines in cache.
 */
export function transpose_batched(src: usize, dst: usize, batch: i32, rows: i32, cols: i32): void {
  const plane = (<usize>rows * <usize>cols) << 2;
  for (let b = 0; b < batch; b++) {
    const s = src + <usize>b * plane;
    const d = dst + <usize>b * plane;
    for (let r0 = 0; r0 < rows; r0 += 8) {
      const r1 = min(rows, r0 + 8);
      for (let c0 = 0; c0 < cols; c0 += 8) {
        const c1 = min(cols, c0 + 8);
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            store<f32>(d + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(s + ((<usize>r * <usize>cols + <usize>c) << 2)));
          }
        }
      }
    }
  }
}
