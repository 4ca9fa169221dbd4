// Cross-entropy (+Grad), Gather/ScatterAdd and causal linear attention (+Grad) on native
// (native/src/losses.h): rows, ids and bh slices split across the pool; ScatterAdd by column
// strips, each adding every id's row in order, so repeated ids sum exactly as the reference's
// loop does (bit-equal on any thread count). Targets and ids are checked here, so the C++
// never reads outside a row; anything else (arrays outside the heap, small calls) goes to wasm.
import type { KernelSignatures } from '../contract.js';
import { ptr } from '../wasm/util.js';
import { addr, enter, fall, type NativeContext } from './context.js';

type Names = 'CrossEntropy' | 'CrossEntropyGrad' | 'Gather' | 'ScatterAdd' | 'CausalLinearAttention' | 'CausalLinearAttentionGrad';

/** Below this many elements a call stays on wasm (the Node-API crossing costs more than it saves). */
const MIN_ELEMENTS = 4096;

/** True when every target is the ignore index (an int32) or a class in [0, classes). */
function targetsOk(targets: Int32Array, rows: number, classes: number, ignoreIndex: number): boolean {
  if ((ignoreIndex | 0) !== ignoreIndex || targets.length < rows) return false;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t !== ignoreIndex && (t < 0 || t >= classes)) return false;
  }
  return true;
}

/** True when every id is a row of a table of `rows` rows. */
function idsOk(ids: Int32Array, rows: number): boolean {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= rows) return false;
  }
  return true;
}

export function lossKernels(ctx: NativeContext): Pick<KernelSignatures, Names> {
  const { addon, mem } = ctx;
  const w = {
    CrossEntropy: fall(ctx, 'CrossEntropy'), CrossEntropyGrad: fall(ctx, 'CrossEntropyGrad'), Gather: fall(ctx, 'Gather'),
    ScatterAdd: fall(ctx, 'ScatterAdd'), CausalLinearAttention: fall(ctx, 'CausalLinearAttention'),
    CausalLinearAttentionGrad: fall(ctx, 'CausalLinearAttentionGrad'),
  };
  const big = (n: number): boolean => ctx.tiny || n >= MIN_ELEMENTS;
  return {
    CrossEntropy: (logits, targets, rows, classes, ignoreIndex, smoothing, loss, lse) => {
      if (!big(rows * classes) || !mem.holds(logits, loss, lse) || !mem.holdsInt32(targets) || logits.length < rows * classes ||
        loss.length < rows || lse.length < rows || !targetsOk(targets, rows, classes, ignoreIndex)) {
        return w.CrossEntropy(logits, targets, rows, classes, ignoreIndex, smoothing, loss, lse);
      }
      enter(ctx);
      addon.crossEntropy(ptr(logits), ptr(targets), rows, classes, ignoreIndex, smoothing, ptr(loss), ptr(lse));
    },
    CrossEntropyGrad: (logits, targets, lse, dloss, rows, classes, ignoreIndex, smoothing, dlogits) => {
      if (!big(rows * classes) || !mem.holds(logits, lse, dloss, dlogits) || !mem.holdsInt32(targets) || logits.length < rows * classes ||
        dlogits.length < rows * classes || lse.length < rows || dloss.length < rows || !targetsOk(targets, rows, classes, ignoreIndex)) {
        return w.CrossEntropyGrad(logits, targets, lse, dloss, rows, classes, ignoreIndex, smoothing, dlogits);
      }
      enter(ctx);
      addon.crossEntropyGrad(ptr(logits), ptr(targets), ptr(lse), ptr(dloss), rows, classes, ignoreIndex, smoothing, ptr(dlogits));
    },
    Gather: (table, cols, ids, out) => {
      const count = ids.length;
      if (!big(count * cols) || cols <= 0 || !mem.holds32(table, out) || !mem.holdsInt32(ids) || table.constructor !== out.constructor ||
        out.length < count * cols || !idsOk(ids, Math.floor(table.length / cols))) {
        return w.Gather(table, cols, ids, out);
      }
      enter(ctx);
      addon.gather(ptr(table as Float32Array), cols, ptr(ids), count, ptr(out as Float32Array));
    },
    ScatterAdd: (src, cols, ids, out) => {
      const count = ids.length;
      if (!big(count * cols) || cols <= 0 || !mem.holds(src, out) || !mem.holdsInt32(ids) || src.length < count * cols ||
        !idsOk(ids, Math.floor(out.length / cols))) {
        return w.ScatterAdd(src, cols, ids, out);
      }
      enter(ctx);
      addon.scatterAdd(ptr(src), cols, ptr(ids), count, ptr(out));
    },
    CausalLinearAttention: (phiQ, phiK, v, bh, n, dk, dv, eps, out, den) => {
      const rows = bh * n;
      if (!big(rows * (dk + dv)) || !mem.holds(phiQ, phiK, v, out, den) || phiQ.length < rows * dk || phiK.length < rows * dk ||
        v.length < rows * dv || out.length < rows * dv || den.length < rows) {
        return w.CausalLinearAttention(phiQ, phiK, v, bh, n, dk, dv, eps, out, den);
      }
      enter(ctx);
      addon.linearAttention(ptr(phiQ), ptr(phiK), ptr(v), ptr(out), ptr(den), -1, -1, -1, -1, bh, n, dk, dv, eps, false);
    },
    CausalLinearAttentionGrad: (phiQ, phiK, v, out, den, dOut, bh, n, dk, dv, dPhiQ, dPhiK, dV) => {
      const rows = bh * n;
      if (!big(rows * (dk + dv)) || !mem.holds(phiQ, phiK, v, out, den, dOut, dPhiQ, dPhiK, dV) || phiQ.length < rows * dk ||
        phiK.length < rows * dk || v.length < rows * dv || out.length < rows * dv || den.length < rows || dOut.length < rows * dv ||
        (dPhiQ && dPhiQ.length < rows * dk) || (dPhiK && dPhiK.length < rows * dk) || (dV && dV.length < rows * dv)) {
        return w.CausalLinearAttentionGrad(phiQ, phiK, v, out, den, dOut, bh, n, dk, dv, dPhiQ, dPhiK, dV);
      }
      if (!dPhiQ && !dPhiK && !dV) return;
      enter(ctx);
      addon.linearAttention(ptr(phiQ), ptr(phiK), ptr(v), ptr(out), ptr(den), ptr(dOut), addr(dPhiQ), addr(dPhiK), addr(dV),
        bh, n, dk, dv, 0, true); // eps: unused by the gradient (den holds it)
    },
  };
}
