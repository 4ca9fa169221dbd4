// loadModel(dir): a trained run of any task, and one line for a directory that is not one.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CheckpointError, data, loadInstance, loadModel, tagDriver, trainSession, type TaskDriver, type TaskInstance } from '../../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'qkv-load-model-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Throws a CheckpointError of one line matching `pattern`. */
function refuses(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `a CheckpointError, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

describe('loadModel', () => {
  test('loads a tag run by its directory, reading the task from config.json, and predicts', () => {
    const all = data.builtinDataset('ambiguity', { seed: 3, n: 120 }) as data.TaggedExample[];
    const out = join(tmp, 'amb');
    trainSession(tagDriver as TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown>, all.slice(0, 100), all.slice(100), {
      out, trainer: { maxSteps: 4, evalEvery: 4 }, task: { model: { kind: 'fc', dModel: 8 } },
    });
    const run = loadModel(out);
    assert.equal(run.task, 'tag');
    assert.equal(run.dir, join(out, 'best'));
    const [tags] = run.predict([{ tokens: ['I', 'saw', 'a', 'saw'] }]) as string[][];
    assert.equal(tags!.length, 4);
    assert.equal(loadModel(join(out, 'last')).dir, join(out, 'last'));
  });

  test('a missing directory, a file, an empty directory and a damaged config are one line naming the path', () => {
    refuses(() => loadModel(join(tmp, 'nope')), /nope: no such directory/);
    writeFileSync(join(tmp, 'file'), 'x');
    refuses(() => loadModel(join(tmp, 'file')), /file: is a file, not a qkv model directory/);
    mkdirSync(join(tmp, 'empty'));
    refuses(() => loadModel(join(tmp, 'empty')), /empty: not a qkv model/);
    refuses(() => loadModel('' as string), /expected a run directory/);
    refuses(() => loadModel(42 as unknown as string), /expected a run directory .*number/);
  });

  test('a config.json naming an unknown task is one line', () => {
    const dir = join(tmp, 'amb', 'best');
    const odd = join(tmp, 'odd');
    cpSync(dir, odd, { recursive: true });
    const config = JSON.parse(readFileSync(join(odd, 'config.json'), 'utf8'));
    writeFileSync(join(odd, 'config.json'), JSON.stringify({ ...config, task: 'dance' }));
    refuses(() => loadModel(odd), /odd: config.json names no task qkv knows \("task": "dance"/);
  });

  test("loadInstance('runs/x') without a driver is one line pointing at loadModel, not a TypeError", () => {
    refuses(() => (loadInstance as unknown as (d: string) => unknown)('runs/x'), /first argument must be a task driver.*loadModel\("runs\/x"\)/);
    refuses(() => loadInstance(tagDriver as TaskDriver<TaskInstance, unknown, unknown, unknown>, undefined as unknown as string), /expected a run directory/);
  });
});
