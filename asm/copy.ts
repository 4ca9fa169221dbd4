// Strided copy of 32-bit elements (float32 -> float32 or int32 -> int32: the same bits), the
// kernel behind contiguous(), permutes, head splits and broadcasts. Shape and strides (rank <= 8)
// are written by the caller into this module's parameter block; offsets are in elements.
// Rows whose source and destination are both contiguous move with memory.copy.
export const MAX_RANK = 8;
// parameter block layout (i32): shape[8], srcStrides[8], dstStrides[8], index[8]
export const PARAM_BYTES: usize = 4 * MAX_RANK * 4;

export function copyAt(params: usize, src: usize, srcOffset: i32, dst: usize, dstOffset: i32, rank: i32): void {
  if (rank == 0) {
    store<u32>(dst + (<usize>dstOffset << 2), load<u32>(src + (<usize>srcOffset << 2)));
    return;
  }
  const shape = params;
  const ss = params + MAX_RANK * 4;
  const ds = params + 2 * MAX_RANK * 4;
  const idx = params + 3 * MAX_RANK * 4;
  const last = rank - 1;
  const n = load<i32>(shape + (<usize>last << 2));
  const sIn = load<i32>(ss + (<usize>last << 2));
  const dIn = load<i32>(ds + (<usize>last << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) {
    rows *= load<i32>(shape + (<usize>d << 2));
    store<i32>(idx + (<usize>d << 2), 0);
  }
  if (n == 0 || rows == 0) return;
  let so = srcOffset;
  let dO = dstOffset;
  for (let r = 0; r < rows; r++) {
    const s = src + (<usize>so << 2);
    const t = dst + (<usize>dO << 2);
    if (sIn == 1 && dIn == 1) {
      memory.copy(t, s, <usize>n << 2);
    } else if (dIn == 1) {
      const sb = <usize>sIn << 2;
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const p = s + <usize>i * sb;
        store<u32>(t + (<usize>i << 2), load<u32>(p));
        store<u32>(t + (<usize>i << 2), load<u32>(p + sb), 4);
        store<u32>(t + (<usize>i << 2), load<u32>(p + 2 * sb), 8);
        store<u32>(t + (<usize>i << 2), load<u32>(p + 3 * sb), 12);
      }
      for (; i < n; i++) store<u32>(t + (<usize>i << 2), load<u32>(s + <usize>i * sb));
    } else {
      for (let i = 0; i < n; i++) store<u32>(t + <usize>(i * dIn) * 4, load<u32>(s + <usize>(i * sIn) * 4));
    }
    // odometer over the outer axes
    for (let d = last - 1; d >= 0; d--) {
      const o = <usize>d << 2;
      const k = load<i32>(idx + o) + 1;
      so += load<i32>(ss + o);
      dO += load<i32>(ds + o);
      if (k < load<i32>(shape + o)) {
        store<i32>(idx + o, k);
        break;
      }
      so -= k * load<i32>(ss + o);
      dO -= k * load<i32>(ds + o);
      store<i32>(idx + o, 0);
    }
  }
}
