// Causal linear attention on wasm: the forward pass, the paper's memory-efficient gradient and
// the RNN step (asm/linear-attention.ts), on float32 arrays in the module's memory (else the
// reference kernel). The wasm exports take a scratch address for the dk×dv state and a range of
// bh [bh0, bh1), so threads can later run disjoint ranges at once, each with its own scratch;
// these single-threaded wrappers run the whole range in the module's GEMM packing scratch (free
// between GEMMs) when the state fits there, else in a heap block freed after the call.
import type { KernelSignatures } from '../contract.js';
import type { HeapAllocator } from './heap.js';
import { causalLinearAttention as refForward, causalLinearAttentionGrad as refGrad, linearAttentionStep as refStep } from '../ref/linear-attention.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

type Names = 'CausalLinearAttention' | 'CausalLinearAttentionGrad' | 'LinearAttentionStep';

/** A nullable array's address; 0 (never a tensor's address: it is in the reserved region) for null. */
const opt = (a: Float32Array | null): number => (a ? ptr(a) : 0);

export function linearAttentionKernels(w: WasmKernels, mem: MemoryBuffer, heap: HeapAllocator): Pick<KernelSignatures, Names> {
  const lent = w.main_scratch();
  const lentBytes = w.scratch_bytes();
  /**
   * Runs `run` with the address of `bytes` of scratch. Callers take every pointer before: a heap
   * block may grow the memory, which detaches the caller's views (their addresses stay valid).
   */
  const withScratch = (bytes: number, run: (scratch: number) => void): void => {
    if (bytes <= lentBytes) return run(lent);
    const block = heap.allocate('float32', bytes / 4);
    try {
      run(block.view().byteOffset);
    } finally {
      block.free();
    }
  };
  return {
    CausalLinearAttention: (phiQ, phiK, v, bh, n, dk, dv, eps, out, den) => {
      const rows = bh * n;
      if (!mem.holds(phiQ, phiK, v, out, den) || phiQ.length < rows * dk || phiK.length < rows * dk || v.length < rows * dv ||
        out.length < rows * dv || den.length < rows) {
        return refForward(phiQ, phiK, v, bh, n, dk, dv, eps, out, den);
      }
      const [q, k, vv, o, d] = [ptr(phiQ), ptr(phiK), ptr(v), ptr(out), ptr(den)];
      withScratch(w.linear_attention_scratch(dk, dv), (s) => w.causal_linear_attention(q, k, vv, n, dk, dv, eps, o, d, s, 0, bh));
    },
    CausalLinearAttentionGrad: (phiQ, phiK, v, out, den, dOut, bh, n, dk, dv, dPhiQ, dPhiK, dV) => {
      const rows = bh * n;
      if (!mem.holds(phiQ, phiK, v, out, den, dOut, dPhiQ, dPhiK, dV) || phiQ.length < rows * dk || phiK.length < rows * dk ||
        v.length < rows * dv || out.length < rows * dv || den.length < rows || dOut.length < rows * dv ||
        (dPhiQ && dPhiQ.length < rows * dk) || (dPhiK && dPhiK.length < rows * dk) || (dV && dV.length < rows * dv)) {
        return refGrad(phiQ, phiK, v, out, den, dOut, bh, n, dk, dv, dPhiQ, dPhiK, dV);
      }
      const [q, k, vv, o, d, g] = [ptr(phiQ), ptr(phiK), ptr(v), ptr(out), ptr(den), ptr(dOut)];
      const [dq, dkk, dvv] = [opt(dPhiQ), opt(dPhiK), opt(dV)];
      if (!dq && !dkk && !dvv) return;
      withScratch(w.linear_attention_scratch(dk, dv),
        (s) => w.causal_linear_attention_grad(q, k, vv, o, d, g, n, dk, dv, dq, dkk, dvv, s, 0, bh));
    },
    LinearAttentionStep: (phiQ, phiK, v, S, z, bh, dk, dv, eps, out) => {
      if (!mem.holds(phiQ, phiK, v, S, z, out) || phiQ.length < bh * dk || phiK.length < bh * dk || v.length < bh * dv ||
        S.length < bh * dk * dv || z.length < bh * dk || out.length < bh * dv) {
        return refStep(phiQ, phiK, v, S, z, bh, dk, dv, eps, out);
      }
      w.linear_attention_step(ptr(phiQ), ptr(phiK), ptr(v), ptr(S), ptr(z), dk, dv, eps, ptr(out), 0, bh);
    },
  };
}
