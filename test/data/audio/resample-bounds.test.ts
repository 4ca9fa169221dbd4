// Resampling at rates whose gcd is small (11127 Hz, 44101 Hz) stays linear in time and memory:
// the table-free path computes the same filter as the polyphase table (checked on rates where
// both fit), and a second of audio at an odd rate resamples in well under a second.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { data } from '../../../src/index.js';
import { assertClose } from '../../helpers.js';

const signal = (n: number, rate: number) => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / rate) + 0.3 * Math.sin((2 * Math.PI * 3100 * i) / rate + 1));

test('the per-sample path equals the polyphase table (16000 -> 8000, 44100 -> 16000, 8000 -> 16000)', () => {
  for (const [from, to] of [[16000, 8000], [44100, 16000], [8000, 16000], [22050, 16000]] as const) {
    const x = signal(3000, from);
    const table = data.resample(x, from, to);
    const direct = data.resample(x, from, to, { polyphaseLimit: 0 });
    assert.equal(direct.length, table.length);
    assertClose(direct, table, `${from} -> ${to}`, 1e-5, 1e-4);
  }
});

test('odd rates (11127, 44101 Hz -> 16000) take little time and memory', () => {
  for (const from of [11127, 44101, 16001]) {
    const x = signal(from, from); // one second
    const heap = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const y = data.resample(x, from, 16000);
    const ms = performance.now() - t0;
    assert.equal(y.length, 16000);
    assert.ok(ms < 2000, `${from} Hz: ${ms.toFixed(0)} ms for one second of audio`);
    assert.ok(process.memoryUsage().arrayBuffers - heap < 64 << 20, `${from} Hz: under 64 MiB of buffers`);
    // the 440 Hz tone survives: its correlation with the resampled reference is high
    const ref = signal(16000, 16000);
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (let i = 100; i < 15900; i++) { dot += y[i]! * ref[i]!; nx += y[i]! ** 2; ny += ref[i]! ** 2; }
    assert.ok(dot / Math.sqrt(nx * ny) > 0.99, `${from} Hz: correlation ${(dot / Math.sqrt(nx * ny)).toFixed(4)}`);
  }
});

test('rates that are not positive integers are refused', () => {
  assert.throws(() => data.resample(new Float32Array(4), 0, 16000), /rates must be positive integers/);
  assert.throws(() => data.resample(new Float32Array(4), 8000.5, 16000), /rates must be positive integers/);
});
