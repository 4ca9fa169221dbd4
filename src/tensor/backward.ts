// The backward pass: walk the tape from a tensor to the leaves in reverse topological
// order, summing each node's incoming gradients, and accumulate into the leaves' .grad.
import { AutogradError, shapeStr } from '../core/errors.js';
import { contiguousStrides, sameShape } from '../core/shape.js';
import { kernel } from '../kernels/registry.js';
import type { Backend } from '../kernels/contract.js';
import type { GradNode } from './autograd.js';
import { keep, noGrad, tidy } from './engine.js';
import { Tensor } from './tensor.js';

export interface BackwardOptions {
  /** Keep saved values so backward can run through this graph again. */
  retainGraph?: boolean;
}

export function runBackward(root: Tensor, gradient: Tensor | undefined, options: BackwardOptions): void {
  root.live('backward');
  if (!root.requiresGrad) throw new AutogradError('backward: the tensor does not require grad (no parameter led to it, or it was made under noGrad)');
  if (!gradient && root.size !== 1) {
    throw new AutogradError(`backward: a gradient must be given for a non-scalar tensor of shape ${shapeStr(root.shape)}`);
  }
  if (gradient && !sameShape(gradient.shape, root.shape)) {
    throw new AutogradError(`backward: gradient of shape ${shapeStr(gradient.shape)} for a tensor of shape ${shapeStr(root.shape)}`);
  }
  noGrad(() => {
    const seed = gradient ? copyOf(gradient) : filled(root.shape, 1, root.backend);
    if (!root.gradFn) {
      accumulate(root, seed);
      return;
    }
    const order = topologicalOrder(root.gradFn);
    const grads = new Map<GradNode, Tensor>([[root.gradFn, seed]]);
    try {
      for (const node of order) {
        const g = grads.get(node);
        if (!g) continue; // no gradient reached this node
        grads.delete(node);
        let inputGrads: (Tensor | null | undefined)[];
        try {
          inputGrads = tidy(() => node.apply(g)); // temporaries of the rule are freed here
        } finally {
          if (!options.retainGraph) {
            node.freeSaved();
            node.freed = true;
          }
        }
        // A backward fn may hand the same tensor to several inputs, or pass g through:
        // give each edge a handle of its own so that each is disposed exactly once.
        const taken = new Set<Tensor>();
        const owned = node.edges.map((edge, i) => {
          const gi = inputGrads[i];
          if (!edge || !gi) return null;
          if (gi === g || taken.has(gi)) return gi.makeView(gi.shape, gi.strides, gi.offset);
          taken.add(gi);
          return gi;
        });
        for (const t of new Set(inputGrads)) if (t && t !== g && !taken.has(t)) t.dispose();
        // g's handle goes before the gradients move on (every edge holds a handle of its own):
        // a view of g (a permute's or reshape's gradient) is then the only holder of its memory,
        // and a leaf can take it as its .grad without a copy
        g.dispose();
        owned.forEach((gi, i) => {
          if (!gi) return;
          const shape = node.inputShapes[i]!;
          if (!sameShape(gi.shape, shape)) {
            const reduced = sumTo(gi, shape);
            gi.dispose();
            gi = reduced;
          }
          const edge = node.edges[i]!;
          if (edge.leaf) {
            accumulate(edge.leaf, gi);
          } else {
            const prev = grads.get(edge.node);
            if (prev) {
              grads.set(edge.node, added(prev, gi));
              prev.dispose();
              gi.dispose();
            } else {
              grads.set(edge.node, gi);
            }
          }
        });
      }
    } finally {
      for (const t of grads.values()) t.dispose();
    }
  });
}

/** Nodes reachable from `root`, each after every node that sends it a gradient. */
function topologicalOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const visited = new Set<GradNode>([root]);
  // iterative DFS (graphs of long unrolled RNNs are deep)
  const stack: [GradNode, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.edges.length) {
      top[1]++;
      const next = node.edges[i]?.node;
      if (next && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

function accumulate(leaf: Tensor, g: Tensor): void {
  if (leaf.isDisposed) {
    g.dispose();
    throw new AutogradError(`backward: parameter${leaf.name ? ` "${leaf.name}"` : ''} ${shapeStr(leaf.shape)} was disposed before its gradient arrived`);
  }
  if (!leaf.grad) {
    // own the memory: a fresh contiguous buffer nobody else writes to
    const owned = g.storage.refCount === 1 && g.isContiguous && g.offset === 0 && g.storage.length === g.size ? g : copyOf(g);
    if (owned !== g) g.dispose();
    leaf.grad = keep(owned);
    return;
  }
  const dst = leaf.grad.strided();
  if (g.backend !== leaf.grad.backend) {
    throw new AutogradError(`backward: the gradient of${leaf.name ? ` "${leaf.name}"` : ''} ${shapeStr(leaf.shape)} arrived on ${g.backend.name}, its accumulated gradient is on ${leaf.grad.backend.name}`);
  }
  kernel('Add', g.backend)(dst, g.strided(), leaf.grad.shape, leaf.grad.buffer());
  leaf.grad.bumpVersion();
  g.dispose();
}

function copyOf(t: Tensor): Tensor {
  const out = Tensor.empty(t.shape, t.dtype, t.backend);
  kernel('Copy', t.backend)(t.strided(), { data: out.buffer(), offset: 0, strides: contiguousStrides(t.shape) }, t.shape);
  return out;
}

function filled(shape: readonly number[], value: number, on: Backend): Tensor {
  const out = Tensor.empty(shape, 'float32', on);
  kernel('Fill', on)(out.buffer(), value);
  return out;
}

function added(a: Tensor, b: Tensor): Tensor {
  if (a.backend !== b.backend) throw new AutogradError(`backward: two gradients of one value arrived on ${a.backend.name} and ${b.backend.name}`);
  const out = Tensor.empty(a.shape, 'float32', a.backend);
  kernel('Add', a.backend)(a.strided(), b.strided(), a.shape, out.buffer());
  return out;
}

/** Sums a broadcast gradient back to the shape of the input it was broadcast from. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.rank - shape.length;
  const isSummed = (i: number): boolean => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1);
  const whole = g.isContiguous && g.offset === 0 && g.storage.length === g.size;
  if (g.dtype === 'float32' && g.isContiguous && g.offset === 0) {
    // a run of summed axes at each end of a contiguous g ([lead..., kept..., trail...], e.g. a
    // conv bias's (n, C, L) -> (C, 1)): the trailing run is a row sum of g as it lies, the leading
    // run one GEMV after it; no transposing copy
    let t = g.rank;
    while (t > 0 && (isSummed(t - 1) || g.shape[t - 1] === 1)) t--;
    let l = 0;
    while (l < t && (isSummed(l) || g.shape[l] === 1)) l++;
    let middleKept = true;
    for (let i = l; i < t; i++) if (isSummed(i)) middleKept = false;
    if (middleKept) return sumEnds(g, shape, l, t);
  }
  // put summed axes last: [kept..., summed...]
  const kept: number[] = [];
  const summed: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (isSummed(i)) summed.push(i);
    else kept.push(i);
  }
  const perm = [...kept, ...summed];
  const permShape = perm.map((i) => g.shape[i]!);
  const permStrides = perm.map((i) => g.strides[i]!);
  const rows = kept.reduce((n, i) => n * g.shape[i]!, 1);
  const cols = summed.reduce((n, i) => n * g.shape[i]!, 1);
  // the summed axes last: g itself when they already are, else a temporary on g's
  // backend (a WebAssembly backend's Sum then runs in its memory); arrays read after the last
  // allocation (a heap grow moves views)
  const inPlace = perm.every((p, i) => p === i) && whole;
  const tmp = inPlace ? g : Tensor.empty(permShape, g.dtype, g.backend);
  if (!inPlace) {
    kernel('Copy', g.backend)({ data: g.storage.data, offset: g.offset, strides: permStrides }, { data: tmp.buffer(), offset: 0, strides: contiguousStrides(permShape) }, permShape);
  }
  const out = Tensor.empty(shape, g.dtype, g.backend);
  kernel('Sum', g.backend)(tmp.buffer(), rows, cols, out.buffer());
  if (!inPlace) tmp.dispose();
  return out;
}

/**
 * sumTo for a float32 g contiguous at offset 0 whose summed axes are [0, l) and [t, rank) (size-1 axes count
 * as either): a row sum over the trailing ones, then ones[1, lead] · rest[lead, kept] over the leading.
 */
function sumEnds(g: Tensor, shape: readonly number[], l: number, t: number): Tensor {
  const be = g.backend;
  const leadSize = g.shape.slice(0, l).reduce((n, d) => n * d, 1);
  const trailSize = g.shape.slice(t).reduce((n, d) => n * d, 1);
  const keptSize = g.size / (leadSize * trailSize);
  const out = Tensor.empty(shape, 'float32', be);
  if (trailSize === 1 && leadSize === 1) {
    kernel('Copy', be)({ data: g.storage.data, offset: 0, strides: [1] }, { data: out.buffer(), offset: 0, strides: [1] }, [g.size]);
    return out;
  }
  // rows of the trailing sum: into out directly when nothing leads
  const partial = trailSize === 1 ? g : leadSize === 1 ? out : Tensor.empty([leadSize * keptSize], 'float32', be);
  // g's values are the first g.size of its storage (contiguous at offset 0); arrays read after the last allocation
  if (trailSize > 1) kernel('Sum', be)(g.storage.data, leadSize * keptSize, trailSize, partial.buffer());
  if (leadSize > 1) {
    const ones = Tensor.empty([leadSize], 'float32', be);
    kernel('Fill', be)(ones.buffer(), 1);
    kernel('MatMul', be)({
      a: ones.buffer(), aOffset: 0, aBatchStride: 0, transA: false, b: partial.storage.data, bOffset: 0, bBatchStride: 0, transB: false,
      out: out.buffer() as Float32Array, batch: 1, m: 1, n: keptSize, k: leadSize,
    });
    ones.dispose();
  }
  if (partial !== g && partial !== out) partial.dispose();
  return out;
}
