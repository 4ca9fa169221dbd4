// Decoding: sampling (determinism, frequencies, temperature, top-k, top-p) and search (greedy,
// beam search against greedy and against brute force).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, OpError } from '../../src/index.js';
import {
  beamSearch, greedyDecode, nextTokenDistribution, sampleNext, type StepFn,
} from '../../src/decode/index.js';

const logs = (ps: number[]): Float32Array => Float32Array.from(ps, Math.log);

function frequencies(logits: Float32Array, n: number, options: Parameters<typeof sampleNext>[1]): number[] {
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleNext(logits, options)]!++;
  return counts.map((c) => c / n);
}

function support(p: ArrayLike<number>): number[] {
  return Array.from(p).flatMap((x, i) => (x > 0 ? [i] : []));
}

// ---------------------------------------------------------------- sampling

test('sampling is deterministic for a seed', () => {
  const logits = Float32Array.from([0.1, 2, -1, 0.5, 1.5, 0]);
  const draw = (seed: number): number[] => {
    const generator = new Generator(seed);
    return Array.from({ length: 200 }, () => sampleNext(logits, { generator, temperature: 0.9, topK: 5, topP: 0.95 }));
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  // the generator's state is what matters: save it, draw, restore, draw again
  const g = new Generator(5);
  const state = g.getState();
  const a = Array.from({ length: 20 }, () => sampleNext(logits, { generator: g }));
  g.setState(state);
  assert.deepEqual(Array.from({ length: 20 }, () => sampleNext(logits, { generator: g })), a);
});

test('10,000 draws match the softmax probabilities within 3%', () => {
  const probs = [0.1, 0.2, 0.3, 0.4];
  const freq = frequencies(logs(probs), 10_000, { generator: new Generator(1) });
  freq.forEach((f, i) => assert.ok(Math.abs(f - probs[i]!) < 0.03, `token ${i}: frequency ${f}, probability ${probs[i]}`));
  // with temperature 2 the probabilities are softmax(log p / 2) ∝ sqrt(p)
  const z = probs.reduce((s, p) => s + Math.sqrt(p), 0);
  const hot = probs.map((p) => Math.sqrt(p) / z);
  const freqHot = frequencies(logs(probs), 10_000, { generator: new Generator(2), temperature: 2 });
  freqHot.forEach((f, i) => assert.ok(Math.abs(f - hot[i]!) < 0.03, `T=2 token ${i}: frequency ${f}, probability ${hot[i]}`));
  const dist = nextTokenDistribution(logs(probs), { temperature: 2 });
  dist.forEach((p, i) => assert.ok(Math.abs(p - hot[i]!) < 1e-6, `T=2 distribution ${i}`));
});

test('masked (-Infinity) tokens are never drawn', () => {
  const logits = Float32Array.from([0, -Infinity, 0, -Infinity]);
  const freq = frequencies(logits, 2000, { generator: new Generator(3) });
  assert.equal(freq[1], 0);
  assert.equal(freq[3], 0);
  assert.ok(Math.abs(freq[0]! - 0.5) < 0.05);
});

test('top-k never picks outside the k best', () => {
  const g = new Generator(11);
  for (let trial = 0; trial < 20; trial++) {
    const logits = Float32Array.from({ length: 30 }, () => g.normal() * 2);
    const k = 1 + (trial % 7);
    const best = new Set([...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, k));
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const id = sampleNext(logits, { generator: g, topK: k, temperature: 1.5 });
      assert.ok(best.has(id), `trial ${trial}: drew ${id}, outside the top ${k}`);
      seen.add(id);
    }
    assert.deepEqual(support(nextTokenDistribution(logits, { topK: k })), [...best].sort((a, b) => a - b));
    if (k <= 3) assert.equal(seen.size, k, `trial ${trial}: every one of the top ${k} is drawn`);
  }
  // the kept probabilities are renormalised: top-2 of (0.1 0.2 0.3 0.4) -> 0.3/0.7, 0.4/0.7
  const d = nextTokenDistribution(logs([0.1, 0.2, 0.3, 0.4]), { topK: 2 });
  [0, 0, 3 / 7, 4 / 7].forEach((p, i) => assert.ok(Math.abs(d[i]! - p) < 1e-6, `top-2 probability ${i}`));
  // ties with the k-th value are all kept (Hugging Face's TopKLogitsWarper); k > vocabulary keeps all
  assert.deepEqual(support(nextTokenDistribution(Float32Array.from([1, 2, 2, 0]), { topK: 1 })), [1, 2]);
  assert.deepEqual(support(nextTokenDistribution(Float32Array.from([1, 2, 3]), { topK: 10 })), [0, 1, 2]);
});

test('top-p keeps the minimal nucleus', () => {
  // probabilities 0.5 0.3 0.15 0.05 (already sorted): cumulative 0.5 0.8 0.95 1
  const logits = logs([0.5, 0.3, 0.15, 0.05]);
  const nucleus = (p: number): number[] => support(nextTokenDistribution(logits, { topP: p }));
  assert.deepEqual(nucleus(0.3), [0]); //          0.5 >= 0.3 already
  assert.deepEqual(nucleus(0.5 - 1e-6), [0]);
  assert.deepEqual(nucleus(0.7), [0, 1]); //       0.5 < 0.7 <= 0.8
  assert.deepEqual(nucleus(0.85), [0, 1, 2]); //   0.8 < 0.85 <= 0.95
  assert.deepEqual(nucleus(0.99), [0, 1, 2, 3]);
  assert.deepEqual(nucleus(1), [0, 1, 2, 3]);
  // an unsorted vocabulary: the nucleus is by probability, not by id
  assert.deepEqual(support(nextTokenDistribution(logs([0.05, 0.3, 0.15, 0.5]), { topP: 0.7 })), [1, 3]);
  // renormalised over the nucleus: 0.5/0.8, 0.3/0.8
  const d = nextTokenDistribution(logits, { topP: 0.7 });
  assert.ok(Math.abs(d[0]! - 0.625) < 1e-6 && Math.abs(d[1]! - 0.375) < 1e-6);
  // draws stay inside the nucleus and follow the renormalised probabilities
  const freq = frequencies(logits, 10_000, { generator: new Generator(9), topP: 0.7 });
  assert.equal(freq[2]! + freq[3]!, 0);
  assert.ok(Math.abs(freq[0]! - 0.625) < 0.03, `frequency ${freq[0]}`);
  // top-k is applied first, then top-p on the renormalised top-k distribution:
  // top-2 of (0.4 0.3 0.2 0.1) is (4/7, 3/7); 4/7 >= 0.5 so top-p 0.5 keeps only token 0,
  // while top-p 0.5 alone needs 0.4 + 0.3
  const l2 = logs([0.4, 0.3, 0.2, 0.1]);
  assert.deepEqual(support(nextTokenDistribution(l2, { topK: 2, topP: 0.5 })), [0]);
  assert.deepEqual(support(nextTokenDistribution(l2, { topP: 0.5 })), [0, 1]);
});

test('top-p agrees with the Hugging Face rule (drop ascending cumulative <= 1 - p) on random logits', () => {
  // Hugging Face's TopPLogitsWarper: sort ascending, cumulative softmax, remove where cum <= 1 - p,
  // always keep the last (most probable) one.
  const hf = (logits: Float32Array, p: number): number[] => {
    const probs = Array.from(logits, (l) => Math.exp(l));
    const z = probs.reduce((a, b) => a + b, 0);
    const order = [...probs.keys()].sort((a, b) => probs[a]! - probs[b]!);
    let cum = 0;
    const keep: number[] = [];
    order.forEach((i, rank) => {
      cum += probs[i]! / z;
      if (cum > 1 - p || rank === order.length - 1) keep.push(i);
    });
    return keep.sort((a, b) => a - b);
  };
  const g = new Generator(21);
  for (let trial = 0; trial < 300; trial++) {
    const logits = Float32Array.from({ length: 12 }, () => g.normal() * 1.5);
    const p = 0.05 + 0.9 * g.uniform();
    const ours = support(nextTokenDistribution(logits, { topP: p }));
    assert.deepEqual(ours, hf(logits, p), `trial ${trial}, p = ${p}`);
    // minimal: the kept mass reaches p, and without the least probable kept token it would not
    const probs = nextTokenDistribution(logits);
    const kept = ours.map((i) => probs[i]!).sort((a, b) => b - a);
    const mass = kept.reduce((a, b) => a + b, 0);
    assert.ok(mass >= p - 1e-12, `trial ${trial}: nucleus mass ${mass} < ${p}`);
    assert.ok(mass - kept[kept.length - 1]! < p, `trial ${trial}: nucleus is not minimal`);
  }
});

test('temperature -> 0 becomes argmax', () => {
  const logits = Float32Array.from([1, 3, 2.9, -1, 3 - 1e-3]);
  // temperature 0: argmax, no draw needed
  assert.equal(sampleNext(logits, { temperature: 0, generator: new Generator(0) }), 1);
  assert.equal(sampleNext(Float32Array.from([0, 5, 5]), { temperature: 0, generator: new Generator(0) }), 1, 'first on ties');
  // the probability of the argmax grows to 1 as T shrinks
  let last = 0;
  for (const T of [2, 1, 0.5, 0.1, 0.01, 1e-4, 1e-8, 1e-300]) {
    const p = nextTokenDistribution(logits, { temperature: T });
    assert.ok(p.every((x) => Number.isFinite(x)), `T=${T}: finite probabilities`);
    assert.ok(p[1]! >= last, `T=${T}: p(argmax) ${p[1]} fell below ${last}`);
    last = p[1]!;
  }
  assert.equal(last, 1);
  const g = new Generator(4);
  for (let i = 0; i < 1000; i++) assert.equal(sampleNext(logits, { temperature: 1e-5, generator: g }), 1);
});

test('sampling options are validated with clear errors', () => {
  const logits = Float32Array.from([0, 1]);
  const generator = new Generator(0);
  const bad = (options: object, re: RegExp): void =>
    assert.throws(() => sampleNext(logits, { generator, ...options }), (e: unknown) => e instanceof OpError && re.test(e.message));
  bad({ temperature: -1 }, /^sampleNext: temperature must be a finite number >= 0/);
  bad({ temperature: NaN }, /temperature must be/);
  bad({ temperature: Infinity }, /temperature must be/);
  bad({ topK: 0 }, /^sampleNext: topK must be an integer >= 1, got 0/);
  bad({ topK: 1.5 }, /topK must be an integer >= 1, got 1.5/);
  bad({ topP: 0 }, /^sampleNext: topP must be in \(0, 1\], got 0/);
  bad({ topP: 1.01 }, /topP must be in \(0, 1\]/);
  bad({ topP: -0.5 }, /topP must be in \(0, 1\]/);
  assert.throws(() => sampleNext(new Float32Array(0), { generator }), /sampleNext: logits are empty/);
  assert.throws(() => sampleNext(Float32Array.from([0, NaN]), { generator }), /sampleNext: logit 1 is NaN/);
  assert.throws(() => sampleNext(Float32Array.from([-Infinity, -Infinity]), { generator }), /every one of the 2 logits is -Infinity/);
  assert.throws(() => nextTokenDistribution(logits, { topP: 2 }), /nextTokenDistribution: topP/);
});

// ---------------------------------------------------------------- search

const BOS = 0;
const EOS = 1;
const A = 2;
const B = 3;

/** A step function from a table: prefix (after bos) -> probabilities of [bos, eos, A, B]. */
function tableModel(table: Record<string, number[]>, fallback = [0, 1, 0, 0]): { step: StepFn; calls: number[][][] } {
  const calls: number[][][] = [];
  const step: StepFn = (prefixes) => {
    calls.push(prefixes);
    return prefixes.map((p) => Float32Array.from(table[p.slice(1).join(' ')] ?? fallback, Math.log));
  };
  return { step, calls };
}

// Greedy takes A (0.6) first, but everything after A is unlikely:
//   P(A A eos) = 0.6 · 0.4 · 0.5 = 0.12,  P(B eos) = 0.4 · 0.9 = 0.36
const TRAP: Record<string, number[]> = {
  '': [0, 0, 0.6, 0.4],
  [`${A}`]: [0, 0.2, 0.4, 0.4],
  [`${A} ${A}`]: [0, 0.5, 0.25, 0.25],
  [`${B}`]: [0, 0.9, 0.05, 0.05],
};

test('greedy decoding follows the argmax', () => {
  const { step, calls } = tableModel(TRAP);
  const r = greedyDecode(step, { bos: BOS, eos: EOS, maxLen: 10 });
  assert.deepEqual(r.tokens, [A, A]);
  assert.equal(r.finished, true);
  assert.ok(Math.abs(r.logProb - Math.log(0.12)) < 1e-6);
  assert.equal(calls.length, 3);
  assert.deepEqual(calls[2], [[BOS, A, A]]);
  // maxLen stops an unfinished hypothesis; maxLen 0 generates nothing
  const cut = greedyDecode(step, { bos: BOS, eos: EOS, maxLen: 1 });
  assert.deepEqual(cut, { tokens: [A], logProb: Math.fround(Math.log(0.6)), finished: false });
  assert.deepEqual(greedyDecode(step, { bos: BOS, eos: EOS, maxLen: 0 }), { tokens: [], logProb: 0, finished: false });
});

test('beam search finds the sequence greedy misses', () => {
  // beam 2, step 1: A (0.6), B (0.4) both live
  // step 2: B eos 0.36, A A 0.24, A B 0.24 (tie: lower token), A eos 0.12, ... -> B eos finishes, A A stays
  // step 3 (one slot left): A A eos 0.12 finishes. Scores (α = 1): ln 0.36 / 2 = -0.51 > ln 0.12 / 3 = -0.71
  for (const lengthPenalty of [0, 1]) {
    const { step, calls } = tableModel(TRAP);
    const hyps = beamSearch(step, { bos: BOS, eos: EOS, maxLen: 10, beamSize: 2, lengthPenalty });
    assert.equal(hyps.length, 2);
    assert.deepEqual(hyps[0]!.tokens, [B]);
    assert.ok(Math.abs(hyps[0]!.logProb - Math.log(0.36)) < 1e-6);
    assert.deepEqual(hyps[1]!.tokens, [A, A]);
    assert.ok(hyps.every((h) => h.finished));
    assert.ok(Math.abs(hyps[0]!.score - Math.log(0.36) / Math.pow(2, lengthPenalty)) < 1e-6, 'score = logProb / len^α, len counts eos');
    // batched: one step call per length, with every live prefix
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[1], [[BOS, A], [BOS, B]]);
  }
  const greedy = greedyDecode(tableModel(TRAP).step, { bos: BOS, eos: EOS, maxLen: 10 });
  assert.ok(greedy.logProb < Math.log(0.36) - 1, 'greedy ends with lower probability');
});

/** A random model: next-token log-probabilities drawn from a generator seeded by the prefix. */
function randomModel(seed: number, vocab: number, sharpness = 2): { step: StepFn; calls: () => number } {
  let calls = 0;
  const step: StepFn = (prefixes) => {
    calls++;
    return prefixes.map((p) => {
      let h = seed >>> 0;
      for (const t of p) h = Math.imul(h ^ (t + 0x9e37), 0x01000193) >>> 0;
      const g = new Generator(h);
      const logits = Array.from({ length: vocab }, () => g.normal() * sharpness);
      const m = Math.max(...logits);
      const lse = m + Math.log(logits.reduce((s, l) => s + Math.exp(l - m), 0));
      return Float32Array.from(logits, (l) => l - lse);
    });
  };
  return { step, calls: () => calls };
}

test('beam search with beamSize 1 is greedy decoding', () => {
  for (let seed = 0; seed < 60; seed++) {
    const { step } = randomModel(seed, 5);
    const opts = { bos: 4, eos: 0, maxLen: 1 + (seed % 9) };
    const greedy = greedyDecode(step, opts);
    for (const lengthPenalty of [0, 1, 2.5]) {
      for (const earlyStopping of [false, true]) {
        const [best, ...rest] = beamSearch(step, { ...opts, beamSize: 1, lengthPenalty, earlyStopping });
        assert.equal(rest.length, 0);
        assert.deepEqual(best!.tokens, greedy.tokens, `seed ${seed}, α ${lengthPenalty}`);
        assert.equal(best!.logProb, greedy.logProb);
        assert.equal(best!.finished, greedy.finished);
      }
    }
  }
  // the hand-made trap, too
  const [b1] = beamSearch(tableModel(TRAP).step, { bos: BOS, eos: EOS, maxLen: 10, beamSize: 1 });
  assert.deepEqual(b1!.tokens, [A, A]);
});

test('a beam as wide as the search space finds the brute-force best', () => {
  // vocabulary: 0 = eos, 1..3 = words; bos = 4 (never scored). maxLen 4: 40 finished + 81 unfinished outputs.
  const V = 4;
  const maxLen = 4;
  for (let seed = 100; seed < 130; seed++) {
    const { step } = randomModel(seed, V, 1);
    for (const lengthPenalty of [0, 1]) {
      let best = { tokens: [] as number[], score: -Infinity };
      const visit = (prefix: number[], logProb: number): void => {
        const len = prefix.length - 1;
        if (len === maxLen) {
          const score = logProb / Math.pow(len, lengthPenalty);
          if (score > best.score) best = { tokens: prefix.slice(1), score };
          return;
        }
        const row = step([prefix])[0]!;
        for (let v = 0; v < V; v++) {
          if (v === 0) {
            const score = (logProb + row[0]!) / Math.pow(len + 1, lengthPenalty);
            if (score > best.score) best = { tokens: prefix.slice(1), score };
          } else visit([...prefix, v], logProb + row[v]!);
        }
      };
      visit([4], 0);
      const hyps = beamSearch(step, { bos: 4, eos: 0, maxLen, beamSize: 200, lengthPenalty });
      assert.equal(hyps.length, 121, 'every output is a hypothesis');
      assert.deepEqual(hyps[0]!.tokens, best.tokens, `seed ${seed}, α ${lengthPenalty}`);
      assert.ok(Math.abs(hyps[0]!.score - best.score) < 1e-9);
      for (let i = 1; i < hyps.length; i++) assert.ok(hyps[i - 1]!.score >= hyps[i]!.score, 'sorted best first');
    }
  }
});

test('early stopping keeps the best hypothesis and saves steps', () => {
  let saved = 0;
  for (let seed = 200; seed < 260; seed++) {
    for (const lengthPenalty of [0, 1]) {
      const full = randomModel(seed, 6);
      const early = randomModel(seed, 6);
      const opts = { bos: 5, eos: 0, maxLen: 12, beamSize: 4, lengthPenalty };
      const a = beamSearch(full.step, opts);
      const b = beamSearch(early.step, { ...opts, earlyStopping: true });
      assert.deepEqual(b[0]!.tokens, a[0]!.tokens, `seed ${seed}, α ${lengthPenalty}`);
      assert.equal(b[0]!.score, a[0]!.score);
      assert.ok(early.calls() <= full.calls());
      saved += full.calls() - early.calls();
      assert.ok(a.length <= 4 && b.length >= 1);
    }
  }
  assert.ok(saved > 0, 'early stopping ended some searches sooner');
});

test('search options and step outputs are validated', () => {
  const { step } = tableModel(TRAP);
  const base = { bos: BOS, eos: EOS, maxLen: 5 };
  assert.throws(() => beamSearch(step, { ...base, beamSize: 0 }), /beamSearch: beamSize must be an integer >= 1, got 0/);
  assert.throws(() => beamSearch(step, { ...base, beamSize: 2, lengthPenalty: NaN }), /beamSearch: lengthPenalty must be a finite number/);
  assert.throws(() => greedyDecode(step, { ...base, maxLen: -1 }), /greedyDecode: maxLen must be an integer >= 0, got -1/);
  assert.throws(() => greedyDecode(step, { ...base, eos: 1.5 }), /greedyDecode: eos must be a token id/);
  assert.throws(() => greedyDecode(() => [], base), /greedyDecode: step returned 0 rows for 1 prefixes/);
  const ragged: StepFn = (ps) => ps.map((p) => new Float32Array(p.length === 1 ? 4 : 3).fill(-1));
  assert.throws(() => greedyDecode(ragged, base), /step returned a row of 3 log-probabilities, but the vocabulary has 4 tokens/);
  assert.throws(() => beamSearch(() => [Float32Array.from([NaN, 0])], { ...base, beamSize: 2 }), /beamSearch: step returned NaN for token 0/);
});
