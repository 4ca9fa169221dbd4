// A device fault during training on webgpu (here: a DeviceError thrown in the middle of step 7,
// after its batch and dropout were drawn, as a buffer over the GPU's limit would be; the device
// itself stays usable): training stops with that error, the last checkpoint is saved at the step
// reached as an interrupt saves it (the cut step as not taken), and resuming from it gives the
// uninterrupted run's losses and weights exactly. A lost device (which cannot give its weights
// back) is tested end to end in test/cli/webgpu-commands.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { data, DeviceError, readCheckpointConfig, tagDriver, trainSessionAsync, type TaskDriver, type TaskInstance, type TrainingTask } from '../../src/index.js';
import { onWebGpu, webgpuSkip } from '../webgpu-setup.js';

const dir = mkdtempSync(join(tmpdir(), 'qkv-webgpu-faults-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const driver = tagDriver as TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown>;
const [train, dev] = data.split(data.builtinDataset('ambiguity', { seed: 1, n: 60 }), [0.8, 0.2], 1) as [data.TaggedExample[], data.TaggedExample[]];
const options = (steps: number) => ({
  trainer: { maxSteps: steps, lr: 5e-3, evalEvery: 4, seed: 4, decaySteps: 8 },
  task: { model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2, dropout: 0.2 }, batchSize: 4, wordDropout: 0.1 },
});

/** tagDriver whose loss throws a DeviceError on its `at`-th call, after the forward pass. */
function faultyAt(at: number): TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown> {
  return {
    ...driver,
    training: (m, tr, dv, o) => {
      const task = driver.training(m, tr, dv, o) as TrainingTask<unknown>;
      let calls = 0;
      return {
        ...task,
        loss: (b) => {
          const l = task.loss(b);
          if (++calls === at) throw new DeviceError('webgpu: a buffer of 9999999999 bytes is over this GPU\'s limit (simulated); use --backend native (or wasm)');
          return l;
        },
      };
    },
  };
}

test('a device fault mid-step saves the last checkpoint at the step reached; resuming equals the uninterrupted run', { skip: webgpuSkip }, async () => {
  const [whole, cut] = [join(dir, 'whole'), join(dir, 'cut')];
  const lossesOf = (into: number[]) => (e: { type: string; loss?: number | null }) => { if (e.type === 'step') into.push(e.loss!); };
  const all: number[] = [];
  await onWebGpu(() => trainSessionAsync(driver, train, dev, { out: whole, ...options(8), onEvent: lossesOf(all) }));

  const first: number[] = [];
  await assert.rejects(onWebGpu(() => trainSessionAsync(faultyAt(7), train, dev, { out: cut, ...options(8), onEvent: lossesOf(first) })),
    (e: Error) => e instanceof DeviceError && /over this GPU's limit/.test(e.message));
  assert.equal(first.length, 6, 'steps 1-6 done, step 7 cut');
  assert.equal(readCheckpointConfig(join(cut, 'last')).step, 6, 'saved at the step reached, not at the evaluation of step 4');
  assert.equal(readCheckpointConfig(join(cut, 'best')).step, 4);

  const rest: number[] = [];
  await onWebGpu(() => trainSessionAsync(driver, train, dev, { out: cut, resume: true, ...options(8), onEvent: lossesOf(rest) }));
  assert.deepEqual([...first, ...rest], all, 'losses exactly');
  assert.deepEqual(readFileSync(join(cut, 'last', 'model.safetensors')), readFileSync(join(whole, 'last', 'model.safetensors')), 'final weights byte for byte');
});
