// qkv's WebAssembly kernels. The module imports its memory (env.memory): the JS side creates it,
// keeps the bottom `reserved()` bytes for this module (its static data and the GEMM packing
// scratch) and hands the rest out to tensors, so kernels compute on tensors in place.
// Built twice by scripts/build-wasm.mjs: plain 128-bit SIMD, and SIMD + relaxed-SIMD (fused madd).
import { PARAM_BYTES, copyAt } from './copy';
import { SCRATCH_BYTES, gemmAt } from './gemm';

export { add_vv, sub_vv, mul_vv, div_vv, add_vs, sub_vs, mul_vs, div_vs, sub_sv, div_sv } from './elementwise';
export { add_vr, sub_vr, mul_vr, div_vr, sub_rv, div_rv } from './elementwise';
export { exp, tanh, gelu_tanh, gelu_erf, relu, gelu_grad } from './elementwise';
export { softmax, softmax_grad, layernorm, layernorm_grad } from './rows';
export { adamw } from './optim';
export { dropout } from './random';
export { flash_forward, flash_backward, flash_scratch_bytes } from './attention';
export { linear_attention_scratch, causal_linear_attention, causal_linear_attention_grad, linear_attention_step } from './linear-attention';
export { log_softmax, log_softmax_grad, cross_entropy, cross_entropy_grad } from './loss';
export { sum_rows, max_rows, max_pool, max_pool_grad } from './reduce';
export { gather, scatter_add, fill32, where } from './gather';
export { im2col, col2im, transpose_batched } from './conv';

// @ts-ignore: decorator
@inline function scratch(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}

/** The parameter block (shapes and strides the caller writes for copy), after the scratch. */
export function params(): usize {
  return scratch() + SCRATCH_BYTES;
}

/** Bytes at the bottom of the memory that belong to this module; tensors go above. */
export function reserved(): usize {
  return params() + PARAM_BYTES;
}

/** dst[...] = src[...] over the shape and strides in the parameter block (32-bit elements). */
export function copy(src: usize, srcOffset: i32, dst: usize, dstOffset: i32, rank: i32): void {
  copyAt(params(), src, srcOffset, dst, dstOffset, rank);
}

/** 1 in the relaxed-SIMD build, 0 in the plain SIMD one. */
export function relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/**
 * The GEMM packing scratch of the main thread (worker threads bring their own, scratch_bytes()
 * each); also lent to main-thread kernels that take a scratch pointer (linear attention's states).
 */
export function main_scratch(): usize {
  return scratch();
}

export function scratch_bytes(): usize {
  return SCRATCH_BYTES;
}

/** See gemmAt: out rows ldc elements apart, matrices cBatch apart; `scratch` is the caller's own. */
export function gemm(a: usize, aRs: i32, aCs: i32, aBatch: i32, b: usize, bRs: i32, bCs: i32, bBatch: i32,
  out: usize, ldc: i32, cBatch: i32, batch: i32, m: i32, n: i32, k: i32, scratch: usize): void {
  gemmAt(a, aRs, aCs, aBatch, b, bRs, bCs, bBatch, out, ldc, cBatch, batch, m, n, k, scratch);
}
