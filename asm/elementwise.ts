// Elementwise kernels over contiguous float32 arrays: four lanes at a time, the last n % 4
// elements one at a time through the same vector code (so every element gets the same math).
// Pointers are byte addresses in the shared memory; n counts elements.
import { expv, geluErfGradv, geluErfv, geluTanhGradv, geluTanhv, splat, tanhv } from './simd';

const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;

// @ts-ignore: decorator
@inline function bin(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

// `op` is a constant at every call site below, so each export compiles to one tight loop.
// @ts-ignore: decorator
@inline function binVV(op: i32, a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, bin(op, v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(bin(op, splat(load<f32>(a + o)), splat(load<f32>(b + o))), 0));
  }
}

/** out = a op s (scalarLeft false) or s op a (true). */
// @ts-ignore: decorator
@inline function binVS(op: i32, a: usize, s: f32, scalarLeft: bool, out: usize, n: i32): void {
  const sv = splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const av = v128.load(a + o);
    v128.store(out + o, scalarLeft ? bin(op, sv, av) : bin(op, av, sv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const av = splat(load<f32>(a + o));
    store<f32>(out + o, f32x4.extract_lane(scalarLeft ? bin(op, sv, av) : bin(op, av, sv), 0));
  }
}

/** A dense operand against a row of `inner` elements repeated along the leading axes (a bias); rowLeft: row op a. */
// @ts-ignore: decorator
@inline function binVR(op: i32, a: usize, row: usize, rowLeft: bool, out: usize, n: i32, inner: i32): void {
  const rowBytes = <usize>inner << 2;
  for (let off: usize = 0, end = <usize>n << 2; off < end; off += rowBytes) {
    if (rowLeft) binVV(op, row, a + off, out + off, inner);
    else binVV(op, a + off, row, out + off, inner);
  }
}

export function add_vv(a: usize, b: usize, out: usize, n: i32): void { binVV(ADD, a, b, out, n); }
export function sub_vv(a: usize, b: usize, out: usize, n: i32): void { binVV(SUB, a, b, out, n); }
export function mul_vv(a: usize, b: usize, out: usize, n: i32): void { binVV(MUL, a, b, out, n); }
export function div_vv(a: usize, b: usize, out: usize, n: i32): void { binVV(DIV, a, b, out, n); }
export function add_vs(a: usize, s: f32, out: usize, n: i32): void { binVS(ADD, a, s, false, out, n); }
export function sub_vs(a: usize, s: f32, out: usize, n: i32): void { binVS(SUB, a, s, false, out, n); }
export function mul_vs(a: usize, s: f32, out: usize, n: i32): void { binVS(MUL, a, s, false, out, n); }
export function div_vs(a: usize, s: f32, out: usize, n: i32): void { binVS(DIV, a, s, false, out, n); }
export function sub_sv(s: f32, a: usize, out: usize, n: i32): void { binVS(SUB, a, s, true, out, n); }
export function div_sv(s: f32, a: usize, out: usize, n: i32): void { binVS(DIV, a, s, true, out, n); }
export function add_vr(a: usize, r: usize, out: usize, n: i32, inner: i32): void { binVR(ADD, a, r, false, out, n, inner); }
export function sub_vr(a: usize, r: usize, out: usize, n: i32, inner: i32): void { binVR(SUB, a, r, false, out, n, inner); }
export function mul_vr(a: usize, r: usize, out: usize, n: i32, inner: i32): void { binVR(MUL, a, r, false, out, n, inner); }
export function div_vr(a: usize, r: usize, out: usize, n: i32, inner: i32): void { binVR(DIV, a, r, false, out, n, inner); }
export function sub_rv(r: usize, a: usize, out: usize, n: i32, inner: i32): void { binVR(SUB, a, r, true, out, n, inner); }
export function div_rv(r: usize, a: usize, out: usize, n: i32, inner: i32): void { binVR(DIV, a, r, true, out, n, inner); }

const EXP = 0;
const TANH = 1;
const GELU_TANH = 2;
const GELU_ERF = 3;
const RELU = 4;

// @ts-ignore: decorator
@inline function un(op: i32, x: v128): v128 {
  if (op == EXP) return expv(x);
  if (op == TANH) return tanhv(x);
  if (op == GELU_TANH) return geluTanhv(x);
  if (op == GELU_ERF) return geluErfv(x);
  // x > 0 ? x : 0, as the reference (NaN -> 0, -0 -> 0)
  return v128.and(x, f32x4.gt(x, splat(0)));
}

// @ts-ignore: decorator
@inline function unary(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, un(op, v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(un(op, splat(load<f32>(x + o))), 0));
  }
}

export function exp(x: usize, out: usize, n: i32): void { unary(EXP, x, out, n); }
export function tanh(x: usize, out: usize, n: i32): void { unary(TANH, x, out, n); }
export function gelu_tanh(x: usize, out: usize, n: i32): void { unary(GELU_TANH, x, out, n); }
export function gelu_erf(x: usize, out: usize, n: i32): void { unary(GELU_ERF, x, out, n); }
export function relu(x: usize, out: usize, n: i32): void { unary(RELU, x, out, n); }

// @ts-ignore: decorator
@inline function geluGrad(approximate: bool, x: usize, dy: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    const dv = v128.load(dy + o);
    v128.store(out + o, approximate ? geluTanhGradv(xv, dv) : geluErfGradv(xv, dv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const xv = splat(load<f32>(x + o));
    const dv = splat(load<f32>(dy + o));
    store<f32>(out + o, f32x4.extract_lane(approximate ? geluTanhGradv(xv, dv) : geluErfGradv(xv, dv), 0));
  }
}

/** dx = dy * gelu'(x); approximate != 0: the tanh form. */
export function gelu_grad(x: usize, dy: usize, out: usize, n: i32, approximate: i32): void {
  if (approximate) geluGrad(true, x, dy, out, n);
  else geluGrad(false, x, dy, out, n);
}
