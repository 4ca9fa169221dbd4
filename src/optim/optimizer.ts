// The optimizer base: a list of parameters, per-parameter state kept in its own buffers,
// and a step() that applies one fused update kernel per parameter.
import { QkvError } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { keep, noGrad } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A group of parameters with its own weight decay, as torch.optim's param groups (only the
 * decay differs between groups here): e.g. nanoGPT decays matrices and not biases or norms.
 */
export interface ParamGroup {
  params: Iterable<Tensor>;
  weightDecay?: number;
}

/** Parameters, or groups of them. */
export type Params = Iterable<Tensor> | readonly ParamGroup[];

function isGroups(params: Params): params is readonly ParamGroup[] {
  return Array.isArray(params) && params.length > 0 && !(params[0] instanceof Tensor);
}

export abstract class Optimizer {
  /** Every parameter, groups flattened in order (checkpoints name state by this position). */
  readonly params: Tensor[];
  /** Number of step() calls so far. */
  stepCount = 0;
  protected state = new Map<Tensor, Tensor[]>();
  /** Weight decay of the parameters whose group sets one. */
  private readonly groupDecay = new Map<Tensor, number>();

  constructor(params: Params, public lr: number) {
    if (isGroups(params)) {
      this.params = [];
      params.forEach((g, gi) => {
        const list = [...g.params];
        if (g.weightDecay !== undefined && !(g.weightDecay >= 0)) {
          throw new QkvError(`${this.constructor.name}: group ${gi}: weightDecay must be >= 0, got ${g.weightDecay}`);
        }
        for (const p of list) {
          if (this.params.includes(p)) throw new QkvError(`${this.constructor.name}: parameter ${p.name ? `"${p.name}" ` : ''}is in more than one group`);
          this.params.push(p);
          if (g.weightDecay !== undefined) this.groupDecay.set(p, g.weightDecay);
        }
      });
    } else {
      this.params = [...(params as Iterable<Tensor>)];
    }
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor) || !p.requiresGrad || !p.isLeaf) {
        throw new QkvError(`${this.constructor.name}: parameter ${i}${p?.name ? ` "${p.name}"` : ''} is not a leaf tensor that requires grad`);
      }
      if (!p.isContiguous || p.offset !== 0) throw new QkvError(`${this.constructor.name}: parameter ${i} is a view; optimize the tensor it views`);
    });
    if (!(lr >= 0)) throw new QkvError(`${this.constructor.name}: learning rate must be >= 0, got ${lr}`);
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    noGrad(() => {
      for (const p of this.params) {
        if (!p.grad) continue;
        const g = p.grad.isContiguous && p.grad.offset === 0 ? p.grad : null;
        if (!g) throw new QkvError(`${this.constructor.name}: gradient of ${p.name ?? 'a parameter'} is not contiguous`);
        this.update(p, g);
        p.bumpVersion();
      }
    });
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** The weight decay for p: its group's, else the optimizer's. */
  protected decayOf(p: Tensor, fallback: number): number {
    return this.groupDecay.get(p) ?? fallback;
  }

  /** This parameter's state buffers (made on first use, zero-filled, outside any scope). */
  protected buffers(p: Tensor, count: number): Tensor[] {
    let s = this.state.get(p);
    if (!s) {
      s = Array.from({ length: count }, () => {
        const t = keep(Tensor.empty(p.shape, 'float32', p.backend));
        kernel('Fill', p.backend)(t.buffer(), 0);
        return t;
      });
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * The optimizer's state for a checkpoint: tensors named "<param index>.<slot>" and the step
   * count. Parameters are identified by their position in `params`, which a model keeps stable.
   */
  exportState(): { tensors: Map<string, Tensor>; stepCount: number } {
    const tensors = new Map<string, Tensor>();
    this.params.forEach((p, i) => this.state.get(p)?.forEach((t, slot) => tensors.set(`${i}.${slot}`, t)));
    return { tensors, stepCount: this.stepCount };
  }

  /** Restores what exportState gave (copying values); refuses state of another shape. */
  importState(state: { tensors: Map<string, Tensor>; stepCount: number }): void {
    const slots = new Map<number, Tensor[]>();
    for (const [name, t] of state.tensors) {
      const m = /^(\d+)\.(\d+)$/.exec(name);
      const p = m ? this.params[Number(m[1])] : undefined;
      if (!m || !p) throw new QkvError(`${this.constructor.name}: optimizer state "${name}" matches no parameter`);
      if (t.shape.join() !== p.shape.join()) throw new QkvError(`${this.constructor.name}: optimizer state "${name}" has shape [${t.shape.join(', ')}], parameter ${m[1]} has [${p.shape.join(', ')}]`);
      const list = slots.get(Number(m[1])) ?? [];
      list[Number(m[2])] = t;
      slots.set(Number(m[1]), list);
    }
    this.dispose();
    for (const [i, list] of slots) {
      const bufs = this.buffers(this.params[i]!, list.length);
      list.forEach((t, slot) => copyInto(bufs[slot]!, t));
    }
    this.stepCount = state.stepCount;
  }

  /** Frees the optimizer state. */
  dispose(): void {
    for (const s of this.state.values()) for (const t of s) t.dispose();
    this.state.clear();
  }

  protected abstract update(p: Tensor, g: Tensor): void;
}

/** dst's values = src's (same shape), by a kernel on dst's backend; a src on another backend is moved first (counted). */
function copyInto(dst: Tensor, src: Tensor): void {
  const from = src.backend === dst.backend ? src : src.to(dst.backend.name);
  kernel('Copy', dst.backend)(from.strided(), { data: dst.buffer(), offset: 0, strides: dst.strides }, dst.shape);
  if (from !== src) from.dispose();
  dst.bumpVersion();
}
