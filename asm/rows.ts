// Row kernels over a contiguous [rows, cols] float32 array: softmax and its gradient, layer
// normalisation and its gradient. Sums run in four float32 lanes (the reference sums in float64).
import { expv, hmax, hsum, madd, splat } from './simd';

/** Softmax of each row, max-subtracted; an all -Infinity row gives zeros (as the reference). */
export function softmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = out + <usize>r * rowBytes;
    let mv = splat(-Infinity);
    let c = 0;
    for (; c + 4 <= cols; c += 4) mv = f32x4.max(mv, v128.load(xr + (<usize>c << 2)));
    let m = hmax(mv);
    for (; c < cols; c++) m = max(m, load<f32>(xr + (<usize>c << 2)));
    if (m == -Infinity) {
      memory.fill(yr, 0, rowBytes);
      continue;
    }
    const ms = splat(m);
    let sv = splat(0);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const e = expv(f32x4.sub(v128.load(xr + o), ms));
      v128.store(yr + o, e);
      sv = f32x4.add(sv, e);
    }
    let s = hsum(sv);
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const e = f32x4.extract_lane(expv(splat(load<f32>(xr + o) - m)), 0);
      store<f32>(yr + o, e);
      s += e;
    }
    const inv = splat(<f32>1 / s);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(yr + o, f32x4.mul(v128.load(yr + o), inv));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, load<f32>(yr + o) * f32x4.extract_lane(inv, 0));
    }
  }
}

/** dx = y * (dy - Σ dy*y), per row. */
export function softmax_grad(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const base = <usize>r * rowBytes;
    let dv = splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = base + (<usize>c << 2);
      dv = madd(v128.load(dy + o), v128.load(y + o), dv);
    }
    let dot = hsum(dv);
    for (; c < cols; c++) {
      const o = base + (<usize>c << 2);
      dot += load<f32>(dy + o) * load<f32>(y + o);
    }
    const ds = splat(dot);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = base + (<usize>c << 2);
      v128.store(dx + o, f32x4.mul(v128.load(y + o), f32x4.sub(v128.load(dy + o), ds)));
    }
    for (; c < cols; c++) {
      const o = base + (<usize>c << 2);
      store<f32>(dx + o, load<f32>(y + o) * (load<f32>(dy + o) - dot));
    }
  }
}

/** y = (x - mean) * rstd * gamma + beta; gamma/beta may be 0 (absent). Writes mean and rstd per row. */
export function layernorm(x: usize, gamma: usize, beta: usize, rows: i32, cols: i32, eps: f32,
  y: usize, mean: usize, rstd: usize): void {
  const rowBytes = <usize>cols << 2;
  const inv = <f32>1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let sv = splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) sv = f32x4.add(sv, v128.load(xr + (<usize>c << 2)));
    let s = hsum(sv);
    for (; c < cols; c++) s += load<f32>(xr + (<usize>c << 2));
    const mu = s * inv;
    const muv = splat(mu);
    let vv = splat(0);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const d = f32x4.sub(v128.load(xr + (<usize>c << 2)), muv);
      vv = madd(d, d, vv);
    }
    let v = hsum(vv);
    for (; c < cols; c++) {
      const d = load<f32>(xr + (<usize>c << 2)) - mu;
      v += d * d;
    }
    const rs = <f32>1 / Mathf.sqrt(v * inv + eps);
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    const rsv = splat(rs);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      let h = f32x4.mul(f32x4.sub(v128.load(xr + o), muv), rsv);
      if (gamma) h = f32x4.mul(h, v128.load(gamma + o));
      if (beta) h = f32x4.add(h, v128.load(beta + o));
      v128.store(yr + o, h);
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      let h = (load<f32>(xr + o) - mu) * rs;
      if (gamma) h *= load<f32>(gamma + o);
      if (beta) h += load<f32>(beta + o);
      store<f32>(yr + o, h);
    }
  }
}

/** dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * gamma; dgamma += dy * xhat and dbeta += dy when given. */
export function layernorm_grad(x: usize, gamma: usize, mean: usize, rstd: usize, dy: usize, rows: i32, cols: i32,
  dx: usize, dgamma: usize, dbeta: usize): void {
  const rowBytes = <usize>cols << 2;
  const inv = <f32>1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const base = <usize>r * rowBytes;
    const mu = load<f32>(mean + (<usize>r << 2));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const muv = splat(mu);
    const rsv = splat(rs);
    let sgv = splat(0);
    let sgxv = splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + base + o), muv), rsv);
      const d = v128.load(dy + base + o);
      const g = gamma ? f32x4.mul(d, v128.load(gamma + o)) : d;
      sgv = f32x4.add(sgv, g);
      sgxv = madd(g, xhat, sgxv);
      if (dgamma) v128.store(dgamma + o, madd(d, xhat, v128.load(dgamma + o)));
      if (dbeta) v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), d));
    }
    let sg = hsum(sgv);
    let sgx = hsum(sgxv);
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(x + base + o) - mu) * rs;
      const d = load<f32>(dy + base + o);
      const g = gamma ? d * load<f32>(gamma + o) : d;
      sg += g;
      sgx += g * xhat;
      if (dgamma) store<f32>(dgamma + o, load<f32>(dgamma + o) + d * xhat);
      if (dbeta) store<f32>(dbeta + o, load<f32>(dbeta + o) + d);
    }
    const sgs = splat(sg * inv);
    const sgxs = splat(sgx * inv);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      const xhat = f32x4.mul(f32x4.sub(v128.load(x + base + o), muv), rsv);
      const d = v128.load(dy + base + o);
      const g = gamma ? f32x4.mul(d, v128.load(gamma + o)) : d;
      v128.store(dx + base + o, f32x4.mul(rsv, f32x4.sub(f32x4.sub(g, sgs), f32x4.mul(xhat, sgxs))));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      const xhat = (load<f32>(x + base + o) - mu) * rs;
      const d = load<f32>(dy + base + o);
      const g = gamma ? d * load<f32>(gamma + o) : d;
      store<f32>(dx + base + o, rs * (g - sg * inv - xhat * sgx * inv));
    }
  }
}
