// The tape. Each differentiable op records one GradNode on its output: which inputs to send
// gradients to, the values it saved, and how to compute input gradients from the output's
// gradient. Nodes are reference-counted (by their output tensors and by downstream nodes),
// so a graph nobody can reach any more frees its saved values at once.
import { AutogradError } from '../core/errors.js';
import { state } from './engine.js';
import type { Tensor } from './tensor.js';

/**
 * Gradients for each input (null/undefined: none), shaped like the output's broadcast of it.
 * `needs[i]` says whether input i wants a gradient, so costly unused ones can be skipped.
 */
export type BackwardFn = (grad: Tensor, saved: Tensor[], needs: boolean[]) => (Tensor | null | undefined)[];

/** Where one input's gradient goes: into an upstream node, or a leaf's .grad. */
export type Edge = { node: GradNode; leaf: null } | { node: null; leaf: Tensor };

export class GradNode {
  private refs = 0;
  /** Set once backward has run through this node and freed its saved values. */
  freed = false;

  constructor(
    readonly op: string,
    readonly edges: (Edge | null)[],
    readonly inputShapes: (readonly number[])[],
    public saved: Tensor[],
    private readonly savedVersions: number[],
    readonly backwardFn: BackwardFn,
  ) {}

  ref(): void {
    this.refs++;
  }

  /** Drops one reference; a node nobody refers to frees its saved values and lets go of its inputs. */
  unref(): void {
    const stack: GradNode[] = [this]; // iterative: a long chain must not overflow the stack
    while (stack.length) {
      const node = stack.pop()!;
      if (--node.refs > 0) continue;
      node.freeSaved();
      for (const e of node.edges) if (e?.node) stack.push(e.node);
    }
  }

  freeSaved(): void {
    for (const t of this.saved) t.dispose();
    this.saved = [];
  }

  /** Runs this node's backward, after checking its saved values are still the ones it saved. */
  apply(grad: Tensor): (Tensor | null | undefined)[] {
    if (this.freed) {
      throw new AutogradError(
        `backward: trying to go through "${this.op}" a second time, but its saved values were freed by the first ` +
          'backward(); call backward({ retainGraph: true }) the first time if you need to go through the graph twice',
      );
    }
    this.saved.forEach((t, i) => {
      if (t.storage.version !== this.savedVersions[i]) {
        throw new AutogradError(`backward: a value saved by "${this.op}" was modified in place after it was saved`);
      }
    });
    return this.backwardFn(grad, this.saved, this.edges.map((e) => e !== null));
  }
}

/**
 * Records `out` as made by `op` from `inputs`, when grad mode is on and some input needs a
 * gradient. `save` lists the tensors the backward pass reads; they are kept alive (sharing
 * memory, no copy) until backward has used them or the graph is dropped.
 */
export function record(op: string, inputs: Tensor[], out: Tensor, backwardFn: BackwardFn, save: Tensor[] = []): Tensor {
  if (!state.gradEnabled || !inputs.some((t) => t.requiresGrad)) return out;
  const edges: (Edge | null)[] = inputs.map((t) => {
    if (!t.requiresGrad) return null;
    if (t.gradFn) {
      t.gradFn.ref();
      return { node: t.gradFn, leaf: null };
    }
    return { node: null, leaf: t };
  });
  const saved = save.map((t) => t.makeView(t.shape, t.strides, t.offset, false));
  const node = new GradNode(op, edges, inputs.map((t) => t.shape), saved, saved.map((t) => t.storage.version), backwardFn);
  node.ref();
  out.gradFn = node;
  out.requiresGrad = true;
  return out;
}
