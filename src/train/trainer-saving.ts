// How the Trainer hands a checkpoint to its Checkpointer. The writer reads tensors
// synchronously, so on a device backend the model's and the optimizer's tensors are first read
// to host copies (one pending read, yielded for runAsync to await, counted as transfers: a
// checkpoint is the one place a run moves its weights), which it then writes.
import { isDeviceBackend } from '../kernels/registry.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Checkpointer, TrainerState } from './trainer-types.js';

export interface Snapshot { model: Module; optimizer: Optimizer; trainer: TrainerState; metrics: Record<string, number> }

/** Saves `snap` as the `kind` checkpoint, yielding the device read when the model lives on one. */
export function* savingCheckpoint(checkpointer: Checkpointer, kind: 'last' | 'best', snap: Snapshot): globalThis.Generator<Promise<unknown>, void, unknown> {
  const first = snap.model.parameters()[0];
  if (!first || !isDeviceBackend(first.backend)) return checkpointer.save(kind, snap);
  const model = snap.model.stateDict();
  const opt = snap.optimizer.exportState();
  const toHost = async (m: Map<string, Tensor>) => new Map(await Promise.all([...m].map(async ([k, t]) => [k, await t.toAsync('ref')] as [string, Tensor])));
  const [hostModel, hostOpt] = (yield Promise.all([toHost(model), toHost(opt.tensors)])) as [Map<string, Tensor>, Map<string, Tensor>];
  try {
    checkpointer.save(kind, {
      ...snap,
      // what the writer asks of them: the state dict, the optimizer's state
      model: { stateDict: () => hostModel } as unknown as Module,
      optimizer: { exportState: () => ({ tensors: hostOpt, stepCount: opt.stepCount }) } as unknown as Optimizer,
    });
  } finally {
    for (const t of [...hostModel.values(), ...hostOpt.values()]) t.dispose();
  }
}
