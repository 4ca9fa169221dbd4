// Softmax cross-entropy over rows, fused: loss_r = -Σ_c q_c log p_c with
// q = (1-ε)·onehot(target) + ε/C (label smoothing as in PyTorch), p = softmax(logits_r).

export function crossEntropy(logits: Float32Array, targets: Int32Array, rows: number, classes: number,
  ignoreIndex: number, smoothing: number, loss: Float32Array, lse: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let m = -Infinity;
    for (let c = 0; c < classes; c++) m = Math.max(m, logits[base + c]!);
    let s = 0;
    let sumLogits = 0;
    for (let c = 0; c < classes; c++) {
      s += Math.exp(logits[base + c]! - m);
      sumLogits += logits[base + c]!;
    }
    const l = m + Math.log(s);
    lse[r] = l;
    const t = targets[r]!;
    if (t === ignoreIndex) { loss[r] = 0; continue; }
    const nll = l - logits[base + t]!;
    const smooth = l - sumLogits / classes; // -mean_c log p_c
    loss[r] = (1 - smoothing) * nll + smoothing * smooth;
  }
}

export function crossEntropyGrad(logits: Float32Array, targets: Int32Array, lse: Float32Array, dloss: Float32Array,
  rows: number, classes: number, ignoreIndex: number, smoothing: number, dlogits: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const t = targets[r]!;
    if (t === ignoreIndex) {
      for (let c = 0; c < classes; c++) dlogits[base + c] = 0;
      continue;
    }
    const g = dloss[r]!;
    const l = lse[r]!;
    for (let c = 0; c < classes; c++) {
      const q = (c === t ? 1 - smoothing : 0) + smoothing / classes;
      dlogits[base + c] = g * (Math.exp(logits[base + c]! - l) - q);
    }
  }
}
