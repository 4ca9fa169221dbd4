// Module: the base of every layer and model. It owns named parameters, buffers and child
// modules, so a model's state dict has PyTorch's dotted names ("encoder.layers.0.linear1.weight")
// and loads a PyTorch checkpoint converted to safetensors unchanged.
import { QkvError, shapeStr } from '../core/errors.js';
import { keep, noGrad } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { assign } from '../ops/inplace.js';

/** A bad argument to a module (wrong size, heads that do not divide d_model, ...). */
export class ModuleError extends QkvError {
  override name = 'ModuleError';
  constructor(readonly module: string, message: string) {
    super(`${module}: ${message}`);
  }
}

export type StateDict = Map<string, Tensor>;

export interface LoadResult {
  missing: string[];
  unexpected: string[];
}

export abstract class Module {
  /** Training mode (dropout on); eval() turns it off. */
  training = true;
  private readonly ownParams = new Map<string, Tensor | null>();
  private readonly ownBuffers = new Map<string, { t: Tensor; persistent: boolean }>();
  private readonly children = new Map<string, Module>();

  /** The class name, used in error messages. */
  get kind(): string {
    return this.constructor.name;
  }

  /** Registers a trainable parameter (kept out of scopes, marked requiresGrad). */
  protected param(name: string, t: Tensor): Tensor;
  protected param(name: string, t: Tensor | null): Tensor | null;
  protected param(name: string, t: Tensor | null): Tensor | null {
    if (t) {
      keep(t);
      if (!t.requiresGrad) t.requiresGrad_();
    }
    this.ownParams.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor; persistent ones are part of the state dict. */
  protected buffer(name: string, t: Tensor, persistent = true): Tensor {
    keep(t);
    this.ownBuffers.set(name, { t, persistent });
    return t;
  }

  /** Registers a child module under `name`. */
  protected module<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Removes a child module and returns it (LoRA adapters come and go). */
  protected unregister(name: string): Module | undefined {
    const m = this.children.get(name);
    this.children.delete(name);
    return m;
  }

  /** Child modules in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter with its dotted name, in registration order (PyTorch's order). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, p: string): void => {
      for (const [n, t] of m.ownParams) {
        if (t && !seen.has(t)) {
          seen.add(t);
          out.push([p + n, t]);
        }
      }
      for (const [n, c] of m.children) walk(c, `${p}${n}.`);
    };
    walk(this, prefix);
    return out;
  }

  /** Every distinct parameter (a tied weight once). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /**
   * Parameters and persistent buffers by dotted name. A tied parameter appears under every
   * name it has (as PyTorch's state_dict), sharing memory.
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    const walk = (m: Module, p: string): void => {
      for (const [n, t] of m.ownParams) if (t) out.set(p + n, t);
      for (const [n, b] of m.ownBuffers) if (b.persistent) out.set(p + n, b.t);
      for (const [n, c] of m.children) walk(c, `${p}${n}.`);
    };
    walk(this, '');
    return out;
  }

  /**
   * Copies values from a state dict into this module's parameters and buffers. Strict (the
   * default) refuses missing and unexpected keys; a wrongly shaped key is always refused. The
   * error names the module, every bad key and the shapes, and nothing is changed when it throws.
   */
  loadStateDict(source: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    const strict = options.strict ?? true;
    const given = source instanceof Map ? source : new Map(Object.entries(source));
    const own = this.stateDict();
    // a tied weight (one tensor under two names, as GPT's lm_head.weight and transformer.wte.weight)
    // may be stored under either name: PyTorch's save_model and many nanoGPT exports keep one
    const tiedGiven = (k: string): boolean => {
      const t = own.get(k)!;
      for (const [k2, t2] of own) if (k2 !== k && given.has(k2) && t2.storage === t.storage && t2.offset === t.offset) return true;
      return false;
    };
    const missing = [...own.keys()].filter((k) => !given.has(k) && !tiedGiven(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [k, t] of given) {
      const mine = own.get(k);
      if (!mine) continue;
      if (!(t instanceof Tensor)) problems.push(`"${k}" is not a tensor`);
      else if (t.shape.join() !== mine.shape.join()) problems.push(`"${k}" has shape ${shapeStr(t.shape)} in the state dict, ${shapeStr(mine.shape)} in the model`);
      else if (t.dtype !== mine.dtype) problems.push(`"${k}" is ${t.dtype} in the state dict, ${mine.dtype} in the model`);
    }
    const count = (n: number) => (n > 3 ? ` (${n})` : '');
    if (strict && missing.length) problems.push(`missing keys${count(missing.length)}: ${firstFew(missing.map((k) => `"${k}" ${shapeStr(own.get(k)!.shape)}`))}`);
    if (strict && unexpected.length) problems.push(`unexpected keys${count(unexpected.length)}: ${firstFew(unexpected.map((k) => `"${k}"`))}`);
    if (problems.length) throw new ModuleError(this.kind, `cannot load state dict: ${firstFew(problems, 4, '; ')}`);
    noGrad(() => {
      for (const [k, t] of given) {
        const mine = own.get(k);
        if (mine) assign(mine, t);
      }
    });
    return { missing, unexpected };
  }

  /** Sets training mode here and in every child. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children.values()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Frees every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const t of this.ownParams.values()) t?.dispose();
    for (const b of this.ownBuffers.values()) b.t.dispose();
    for (const c of this.children.values()) c.dispose();
  }
}

/** The first `n` items joined, and how many more there are: messages stay one readable line. */
export function firstFew(items: readonly string[], n = 3, sep = ', '): string {
  return items.length <= n ? items.join(sep) : `${items.slice(0, n).join(sep)}${sep}and ${items.length - n} more`;
}
