// Containers: a list of modules named 0, 1, 2, ... (torch.nn.ModuleList), and Sequential.
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.push(m);
  }

  push(m: M): this {
    this.module(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i < 0 ? i + this.items.length : i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range for ${this.items.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Modules with a forward(x) applied in order; functions are allowed as parameter-free steps. */
export class Sequential extends Module {
  private readonly steps: (Module & { forward(x: Tensor): Tensor } | ((x: Tensor) => Tensor))[];

  constructor(...steps: (Module & { forward(x: Tensor): Tensor } | ((x: Tensor) => Tensor))[]) {
    super();
    this.steps = steps;
    steps.forEach((s, i) => { if (s instanceof Module) this.module(String(i), s); });
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const s of this.steps) {
      const next = s instanceof Module ? s.forward(y) : s(y);
      if (y !== x && next !== y) y.dispose();
      y = next;
    }
    return y;
  }
}
