// Row gather (embedding lookup) and its gradient, a scatter-add into the table; ids are int32 in
// the module's memory, already checked to be in range by the caller. Gather moves 32-bit rows
// of either dtype; scatter-add adds float32 rows in id order (so repeated ids add up exactly as
// in the reference). Also where (cond ? a : b) and fill, on 32-bit elements.

/** out[i, :] = table[ids[i], :] for i < count (32-bit elements). */
export function gather(table: usize, cols: i32, ids: usize, count: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let i = 0; i < count; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    memory.copy(out + <usize>i * rowBytes, table + id * rowBytes, rowBytes);
  }
}

/** out[ids[i], :] += src[i, :] for i < count (float32). */
export function scatter_add(src: usize, cols: i32, ids: usize, count: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let i = 0; i < count; i++) {
    const o = out + <usize>load<i32>(ids + (<usize>i << 2)) * rowBytes;
    const s = src + <usize>i * rowBytes;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = <usize>c << 2;
      v128.store(o + p, f32x4.add(v128.load(o + p), v128.load(s + p)));
    }
    for (; c < cols; c++) {
      const p = <usize>c << 2;
      store<f32>(o + p, load<f32>(o + p) + load<f32>(s + p));
    }
  }
}

/** Every one of n 32-bit elements of out set to `bits`. */
export function fill32(out: usize, bits: i32, n: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = out + (<usize>i << 2);
    v128.store(o, v);
    v128.store(o, v, 16);
    v128.store(o, v, 32);
    v128.store(o, v, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(out + (<usize>i << 2), bits);
}

// @ts-ignore: decorator
@inline function whereRun(condFloat: bool, aVec: bool, bVec: bool, cond: usize, inner: i32, a: usize, b: usize,
  out: usize, n: i32): void {
  const zero = i32x4.splat(0);
  const as = aVec ? zero : v128.load32_splat(a);
  const bs = bVec ? zero : v128.load32_splat(b);
  for (let base = 0; base < n; base += inner) {
    const len = min(inner, n - base);
    const ob = <usize>base << 2;
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const o = <usize>i << 2;
      const c = v128.load(cond + o);
      const mask = condFloat ? f32x4.ne(c, zero) : i32x4.ne(c, zero);
      const av = aVec ? v128.load(a + ob + o) : as;
      const bv = bVec ? v128.load(b + ob + o) : bs;
      v128.store(out + ob + o, v128.bitselect(av, bv, mask));
    }
    for (; i < len; i++) {
      const o = <usize>i << 2;
      const take = condFloat ? load<f32>(cond + o) != 0 : load<i32>(cond + o) != 0;
      const av = aVec ? load<u32>(a + ob + o) : load<u32>(a);
      const bv = bVec ? load<u32>(b + ob + o) : load<u32>(b);
      store<u32>(out + ob + o, take ? av : bv);
    }
  }
}

/**
 * out = cond != 0 ? a : b over n 32-bit elements. cond is a row of `inner` elements repeated
 * (inner = n when dense), float32 when condFloat (-0 is false, NaN true) else int32; a and b are
 * dense (step 1) or one value everywhere (step 0).
 */
export function where(cond: usize, inner: i32, condFloat: i32, a: usize, aStep: i32, b: usize, bStep: i32, out: usize, n: i32): void {
  if (n <= 0 || inner <= 0) return;
  if (condFloat) {
    if (aStep && bStep) whereRun(true, true, true, cond, inner, a, b, out, n);
    else if (aStep) whereRun(true, true, false, cond, inner, a, b, out, n);
    else if (bStep) whereRun(true, false, true, cond, inner, a, b, out, n);
    else whereRun(true, false, false, cond, inner, a, b, out, n);
  } else {
    if (aStep && bStep) whereRun(false, true, true, cond, inner, a, b, out, n);
    else if (aStep) whereRun(false, true, false, cond, inner, a, b, out, n);
    else if (bStep) whereRun(false, false, true, cond, inner, a, b, out, n);
    else whereRun(false, false, false, cond, inner, a, b, out, n);
  }
}
