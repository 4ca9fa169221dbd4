// Speech input against references written by Python: WAV files from `wave` (and hand-made
// headers), log-mel from torchaudio.compliance.kaldi.fbank, resampling from
// torchaudio.functional.resample (scripts/audio_fixtures.py writes test/fixtures/audio/).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DataError, audioFrontEnd, encodeWav, logMel, parseWav, readWavList, resample, toMono, wavFeatures, type WindowKind } from '../../../src/data/index.js';
import { fixturePath, readFixture } from '../../fixtures.js';

interface Reference {
  pcm: Record<string, { bits: number; channels: number; rate: number; ints: number[][] }>;
  float: { name: string; rate: number; values: number[][] };
  fbank: { file: string; rate: number; options: Record<string, unknown>; features: number[][]; meanvar: number[][] }[];
  resample: { from: number; to: number; x: number[]; y: number[] }[];
}
const ref = readFixture<Reference>('audio/reference.json');
const wavBytes = (name: string) => new Uint8Array(readFileSync(fixturePath(`audio/${name}`)));

/** Same WAV bytes, but for the pad byte after an odd-sized data chunk (RIFF requires it, Python's wave leaves it out). */
function sameWav(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const padded = actual.length === expected.length + 1 && expected.length % 2 === 1;
  assert.ok(padded || actual.length === expected.length, `${what}: ${actual.length} bytes, expected ${expected.length}`);
  assert.deepEqual(actual.subarray(8, expected.length), expected.subarray(8), what);
  if (padded) assert.equal(actual[actual.length - 1], 0, `${what}: pad byte`);
}

function maxDiff(a: ArrayLike<number>[], b: number[][]): number {
  assert.equal(a.length, b.length, 'row count');
  let m = 0;
  a.forEach((row, i) => { assert.equal(row.length, b[i]!.length); for (let j = 0; j < row.length; j++) m = Math.max(m, Math.abs(row[j]! - b[i]![j]!)); });
  return m;
}

describe('WAV reader', () => {
  test('every PCM width, mono and stereo, equals what Python wrote, and encodeWav writes the same bytes', () => {
    assert.equal(Object.keys(ref.pcm).length, 8);
    for (const [name, r] of Object.entries(ref.pcm)) {
      const bytes = wavBytes(name);
      const wav = parseWav(bytes, name);
      assert.equal(wav.sampleRate, r.rate, name);
      assert.equal(wav.channels, r.channels, name);
      assert.equal(wav.bitsPerSample, r.bits, name);
      const full = 2 ** (r.bits - 1);
      for (let c = 0; c < r.channels; c++) {
        assert.deepEqual(Array.from(wav.data[c]!), r.ints.map((s) => Math.fround(s[c]! / full)), `${name} channel ${c}`);
      }
      // the extremes: -1 exactly and just under 1
      assert.equal(wav.data[0]![0], -1);
      const again = encodeWav(wav.data, wav.sampleRate, { bits: r.bits as 8 });
      // float32 holds 24 bits exactly: up to 24-bit the bytes come back; 32-bit keeps the float32 values
      if (r.bits <= 24) sameWav(again, bytes, `${name} re-encoded`);
      else assert.deepEqual(parseWav(again, name).data, wav.data, `${name} re-read`);
      if (r.channels === 2) {
        const mono = toMono(wav);
        r.ints.forEach((s, i) => assert.ok(Math.abs(mono[i]! - (s[0]! + s[1]!) / 2 / full) < 1e-6));
      }
    }
  });

  test('32-bit float, stereo', () => {
    const wav = parseWav(wavBytes(ref.float.name), ref.float.name);
    assert.equal(wav.encoding, 'float');
    assert.deepEqual([wav.sampleRate, wav.channels], [ref.float.rate, 2]);
    for (let c = 0; c < 2; c++) assert.deepEqual(Array.from(wav.data[c]!), ref.float.values.map((v) => Math.fround(v[c]!)));
    sameWav(encodeWav(wav.data, wav.sampleRate, { float: true }), wavBytes(ref.float.name), 'float32 re-encoded');
  });

  test('bad files: one line naming the file', () => {
    const cases: [string, RegExp][] = [
      ['truncated.wav', /truncated WAV header/],
      ['empty.wav', /file is empty/],
      ['mulaw.wav', /unsupported WAV encoding µ-law/],
      ['alaw.wav', /unsupported WAV encoding A-law/],
      ['float64.wav', /unsupported WAV encoding 64-bit float/],
    ];
    for (const [name, re] of cases) {
      assert.throws(() => parseWav(wavBytes(name), name), (e: unknown) => e instanceof DataError && e.message.startsWith(`${name}: `) && re.test(e.message) && !e.message.includes('\n'), name);
    }
    assert.throws(() => parseWav(new TextEncoder().encode('hello world, not a wav'), 'x.wav'), /x\.wav: not a WAV file/);
  });
});

describe('resampling', () => {
  test('equals torchaudio.functional.resample (Hann-windowed sinc) within 1e-5', () => {
    for (const r of ref.resample) {
      const y = resample(Float32Array.from(r.x), r.from, r.to);
      assert.equal(y.length, r.y.length, `${r.from} -> ${r.to} length`);
      const d = maxDiff([y], [r.y]);
      assert.ok(d < 1e-5, `${r.from} -> ${r.to}: max difference ${d}`);
    }
  });
});

describe('log-mel front end', () => {
  test('equals torchaudio Kaldi fbank within 1e-4 (80 bins Povey, 23 bins Hann at 8 kHz, 40 bins Hamming without pre-emphasis/DC)', () => {
    for (const c of ref.fbank) {
      const o = c.options as { num_mel_bins: number; window_type: string; preemphasis_coefficient?: number; remove_dc_offset?: boolean; low_freq?: number; high_freq?: number };
      const config = {
        sampleRate: c.rate, numMelBins: o.num_mel_bins, window: (o.window_type === 'hanning' ? 'hann' : o.window_type) as WindowKind,
        preemphasis: o.preemphasis_coefficient ?? 0.97, removeDcOffset: o.remove_dc_offset ?? true, lowFreq: o.low_freq ?? 20, highFreq: o.high_freq ?? 0,
      };
      const samples = toMono(parseWav(wavBytes(c.file), c.file));
      const rows = logMel(samples, config);
      const d = maxDiff(rows, c.features);
      assert.ok(d < 1e-4, `${c.file} ${JSON.stringify(o)}: max difference ${d}`);
      const cmvn = logMel(samples, { ...config, normalize: 'meanvar' });
      const dn = maxDiff(cmvn, c.meanvar);
      assert.ok(dn < 1e-4, `${c.file} mean/variance normalised: max difference ${dn}`);
    }
  });

  test('wavFeatures resamples to the front end\'s rate: 25 ms / 10 ms frames of the right count', () => {
    const fe = audioFrontEnd({ sampleRate: 16000, numMelBins: 40 });
    const frames = wavFeatures(wavBytes('speech-8k.wav'), 'speech-8k.wav', fe); // 0.25 s at 8 kHz -> 4000 samples at 16 kHz
    assert.equal(frames.length, 1 + Math.floor((4000 - 400) / 160));
    assert.equal(frames[0]!.length, 40);
    assert.throws(() => wavFeatures(encodeWav([new Float32Array(100)], 16000), 'short.wav', fe), /short\.wav: audio of 6\.3 ms is shorter than one 25 ms window/);
  });

  test('WAV lists: classify, per-frame labels and time-aligned segments; errors name file and line', () => {
    const fe = audioFrontEnd({ numMelBins: 23, sampleRate: 8000 });
    const files: Record<string, Uint8Array> = { 'a.wav': wavBytes('speech-8k.wav'), 'b.wav': wavBytes('speech-16k.wav') };
    const o = { frontEnd: fe, load: (p: string) => files[p] ?? (() => { throw new DataError(p, null, 'file not found'); })(), resolve: (_l: string, p: string) => p };
    const cls = readWavList('a.wav\tyes\nb.wav\tno\n', 'list.tsv', { ...o, mode: 'classify' });
    assert.deepEqual(cls.map((e) => [e.label, e.frames!.length]), [['yes', 23], ['no', 28]]);
    const T = 23;
    const perFrame = readWavList(`a.wav\t${Array.from({ length: T }, (_, i) => (i < 10 ? 's' : 'a')).join(' ')}\n`, 'l.tsv', { ...o, mode: 'tag' });
    assert.equal(perFrame[0]!.labels.filter((l) => l === 's').length, 10);
    // frame t's centre is (t·80 + 100) / 8000 s: frames 0..9 end before 0.1125 s
    const segs = readWavList('a.wav\t0-0.11:s 0.11-0.3:a\n', 'l.tsv', { ...o, mode: 'tag' });
    assert.deepEqual(segs[0]!.labels, perFrame[0]!.labels);
    assert.throws(() => readWavList('a.wav\ts a\n', 'l.tsv', { ...o, mode: 'tag' }), /^DataError: l\.tsv:1: 2 labels for 23 frames of a\.wav/);
    assert.throws(() => readWavList('a.wav\t0-0.05:s\n', 'l.tsv', { ...o, mode: 'tag' }), /l\.tsv:1: no segment covers frame/);
    assert.throws(() => readWavList('\n a.wav yes\n', 'l.tsv', { ...o, mode: 'classify' }), /l\.tsv:2: no tab/);
    assert.throws(() => readWavList('c.wav\tyes\n', 'l.tsv', { ...o, mode: 'classify' }), /c\.wav: file not found/);
  });
});
