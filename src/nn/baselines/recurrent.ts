// Lecture part: "an RNN processes positions one after another". GRU and LSTM with the
// semantics and parameter names of torch.nn.GRU / torch.nn.LSTM (batch_first=True only):
// each step reads one input vector and the previous state, so position t sees 1..t (and, with
// bidirectional, a second pass sees t..T) only through a chain of T steps, and the steps cannot
// run in parallel as self-attention's can.
import { checkOptions, optionKeys } from '../../core/options.js';
import { shapeStr } from '../../core/errors.js';
import { defaultGenerator, type Generator } from '../../core/rng.js';
import { zeros } from '../../ops/creation.js';
import { dropout } from '../../ops/dropout.js';
import { add, mul, sigmoid, sub, tanh, where } from '../../ops/elementwise.js';
import { concat, split, stack } from '../../ops/join.js';
import { linear } from '../../ops/linalg.js';
import { select } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { uniform } from '../init.js';
import type { InitOptions } from '../layers.js';
import { Module, ModuleError } from '../module.js';
import { checkSequence, paddingMask, positiveInt } from './common.js';

export interface RecurrentOptions extends InitOptions {
  numLayers?: number;
  bidirectional?: boolean;
  bias?: boolean;
  /** Dropout on each layer's output except the last, in training mode (as PyTorch). */
  dropout?: number;
}

export interface RecurrentForwardOptions {
  /**
   * (B, T), nonzero = padding. A padded step keeps the previous state, in both directions, and
   * its output is zero; so for right-padded batches the backward direction starts at each
   * sequence's last real position and the results (outputs and final states) equal PyTorch's
   * pack_padded_sequence / pad_packed_sequence.
   */
  keyPaddingMask?: Tensor | null;
}

interface Weights { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null }

/** What GRU and LSTM share: parameters per layer and direction, and the time loop. */
abstract class Recurrent extends Module {
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly numDirections: number;
  readonly dropoutP: number;
  private readonly generator: Generator;
  protected readonly weights: Weights[][] = [];

  constructor(private readonly name: string, gates: number, readonly inputSize: number, readonly hiddenSize: number, options: RecurrentOptions) {
    super();
    checkOptions(name, options, optionKeys<RecurrentOptions>({ numLayers: 1, bidirectional: 1, bias: 1, dropout: 1, generator: 1 }));
    positiveInt(name, 'inputSize', inputSize);
    positiveInt(name, 'hiddenSize', hiddenSize);
    this.numLayers = options.numLayers ?? 1;
    positiveInt(name, 'numLayers', this.numLayers);
    this.bidirectional = options.bidirectional ?? false;
    this.numDirections = this.bidirectional ? 2 : 1;
    this.dropoutP = options.dropout ?? 0;
    if (!(this.dropoutP >= 0 && this.dropoutP <= 1)) throw new ModuleError(name, `dropout must be in [0, 1], got ${this.dropoutP}`);
    this.generator = options.generator ?? defaultGenerator;
    const bound = 1 / Math.sqrt(hiddenSize);
    const u = (shape: number[]): Tensor => uniform(shape, bound, this.generator);
    for (let l = 0; l < this.numLayers; l++) {
      const dirs: Weights[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const s = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const inSize = l === 0 ? inputSize : hiddenSize * this.numDirections;
        dirs.push({
          wih: this.param(`weight_ih${s}`, u([gates * hiddenSize, inSize])),
          whh: this.param(`weight_hh${s}`, u([gates * hiddenSize, hiddenSize])),
          bih: this.param(`bias_ih${s}`, options.bias === false ? null : u([gates * hiddenSize])),
          bhh: this.param(`bias_hh${s}`, options.bias === false ? null : u([gates * hiddenSize])),
        });
      }
      this.weights.push(dirs);
    }
  }

  /** One step: gi = W_ih x_t + b_ih (B, gates*H) and the state (h, or h and c) -> the new state. */
  protected abstract cell(gi: Tensor, state: Tensor[], w: Weights): Tensor[];

  /** Runs every layer and direction; `initial` holds h0 (and c0), each (layers*dirs, B, H) or null. */
  protected run(x: Tensor, initial: (Tensor | null | undefined)[], options: RecurrentForwardOptions): { output: Tensor; finals: Tensor[] } {
    checkSequence(this.name, x, this.inputSize, 'inputSize');
    const [batch, time] = x.shape as [number, number, number];
    const stateShape = [this.numLayers * this.numDirections, batch, this.hiddenSize];
    initial.forEach((s, i) => {
      if (s && s.shape.join() !== stateShape.join()) {
        throw new ModuleError(this.name, `${i === 0 ? 'h0' : 'c0'} of shape ${shapeStr(s.shape)} must be `
          + `(numLayers * directions, batch, hiddenSize) = ${shapeStr(stateShape)} for input ${shapeStr(x.shape)}`);
      }
    });
    return tidy(() => {
      const mask3 = paddingMask(this.name, x, options.keyPaddingMask);
      const finals: Tensor[][] = initial.map(() => []);
      let input = x;
      for (let l = 0; l < this.numLayers; l++) {
        if (l > 0 && this.training && this.dropoutP > 0) input = dropout(input, this.dropoutP, true);
        const outs: Tensor[] = [];
        for (let d = 0; d < this.numDirections; d++) {
          const w = this.weights[l]![d]!;
          const gi = linear(input, w.wih, w.bih); // every step's input projection at once: (B, T, gates*H)
          let state = initial.map((s) => (s ? select(s, 0, l * this.numDirections + d) : zeros([batch, this.hiddenSize])));
          const steps = new Array<Tensor>(time);
          for (let k = 0; k < time; k++) {
            const t = d === 0 ? k : time - 1 - k;
            let next = this.cell(select(gi, 1, t), state, w);
            if (mask3) {
              const pad = select(mask3, 1, t); // (B, 1)
              next = next.map((n, i) => where(pad, state[i]!, n));
              steps[t] = where(pad, 0, next[0]!);
            } else steps[t] = next[0]!;
            state = next;
          }
          outs.push(stack(steps, 1));
          state.forEach((s, i) => finals[i]!.push(s));
        }
        input = outs.length === 1 ? outs[0]! : concat(outs, -1);
      }
      return { output: input, finals: finals.map((f) => stack(f, 0)) };
    });
  }
}

/**
 * torch.nn.GRU, batch_first. Gates r, z, n (in that order in weight_ih / weight_hh):
 * r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
 */
export class GRU extends Recurrent {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('GRU', 3, inputSize, hiddenSize, options);
  }

  protected cell(gi: Tensor, [h]: Tensor[], w: Weights): Tensor[] {
    const H = this.hiddenSize;
    const gh = linear(h!, w.whh, w.bhh);
    const [ir, iz, inn] = split(gi, H, -1);
    const [hr, hz, hn] = split(gh, H, -1);
    const r = sigmoid(add(ir!, hr!));
    const z = sigmoid(add(iz!, hz!));
    const n = tanh(add(inn!, mul(r, hn!)));
    return [add(n, mul(z, sub(h!, n)))];
  }

  /** x (B, T, inputSize), h0 (layers*dirs, B, H) or zeros -> output (B, T, H*dirs), hN (layers*dirs, B, H). */
  forward(x: Tensor, h0?: Tensor | null, options: RecurrentForwardOptions = {}): { output: Tensor; hN: Tensor } {
    const { output, finals } = this.run(x, [h0], options);
    return { output, hN: finals[0]! };
  }
}

/**
 * torch.nn.LSTM, batch_first. Gates i, f, g, o (in that order): c' = σ(f) * c + σ(i) * tanh(g),
 * h' = σ(o) * tanh(c'), each gate from W_i* x + b_i* + W_h* h + b_h*.
 */
export class LSTM extends Recurrent {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentOptions = {}) {
    super('LSTM', 4, inputSize, hiddenSize, options);
  }

  protected cell(gi: Tensor, [h, c]: Tensor[], w: Weights): Tensor[] {
    const [i, f, g, o] = split(add(gi, linear(h!, w.whh, w.bhh)), this.hiddenSize, -1);
    const c2 = add(mul(sigmoid(f!), c!), mul(sigmoid(i!), tanh(g!)));
    return [mul(sigmoid(o!), tanh(c2)), c2];
  }

  /** x (B, T, inputSize), [h0, c0] (each (layers*dirs, B, H)) or zeros -> output, hN, cN. */
  forward(x: Tensor, state?: readonly [Tensor | null, Tensor | null] | null, options: RecurrentForwardOptions = {}): { output: Tensor; hN: Tensor; cN: Tensor } {
    const { output, finals } = this.run(x, [state?.[0], state?.[1]], options);
    return { output, hN: finals[0]!, cN: finals[1]! };
  }
}
