// Built-in data sets: determinism, shapes and ranges, and the property each one is built to
// have (ambiguity: per-word 50/50 tags decided by context; speech and graph: context beats a
// per-position classifier).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AMBIGUITY_LEXICON, AMBIGUITY_TAGS, AMBIGUOUS_WORDS, BUILTIN_DATASETS, GRAPH_CLASSES, SPEECH_CONFUSABLE, SPEECH_PHONEMES,
  type TaggedExample, builtinDataset, RELATION_CLASSES, RELATIONS_SIZE, generateAmbiguity, generateGraph, generateSpeech, graphClassMeans, speechPhonemeMeans, split,
} from '../../src/data/index.js';

/** Index of the nearest mean vector (squared Euclidean distance). */
function nearest(means: number[][], v: number[]): number {
  let best = 0;
  let bestD = Infinity;
  means.forEach((m, k) => {
    const d = m.reduce((s, x, i) => s + (x - v[i]!) ** 2, 0);
    if (d < bestD) [best, bestD] = [k, d];
  });
  return best;
}

/** Mean of the given rows. */
const meanOf = (rows: number[][]) => rows[0]!.map((_, d) => rows.reduce((s, r) => s + r[d]!, 0) / rows.length);

describe('builtinDataset', () => {
  test('every set is deterministic in its seed and differs between seeds', () => {
    for (const name of Object.keys(BUILTIN_DATASETS) as (keyof typeof BUILTIN_DATASETS)[]) {
      const a = builtinDataset(name, { seed: 7, n: 20 });
      assert.equal(a.length, 20, name);
      assert.equal(JSON.stringify(builtinDataset(name, { seed: 7, n: 20 })), JSON.stringify(a), name);
      assert.notEqual(JSON.stringify(builtinDataset(name, { seed: 8, n: 20 })), JSON.stringify(a), name);
      assert.deepEqual(a[3]!.origin, { file: `builtin:${name}`, line: 4 });
    }
  });

  test('options pass through; unknown names and bad options are errors', () => {
    const pairs = builtinDataset('reverse', { seed: 1, n: 50, minLength: 2, maxLength: 4, alphabet: ['x', 'y'] });
    for (const p of pairs) {
      assert.ok(p.source.length >= 2 && p.source.length <= 4);
      assert.ok(p.source.every((s) => s === 'x' || s === 'y'));
    }
    assert.throws(() => builtinDataset('nope', { n: 1 }), { message: 'unknown built-in data set "nope" (known: ambiguity, reverse, sort, copy, speech, graph, shapes, relations)' });
    assert.throws(() => builtinDataset('ambiguity', { n: 1, minLength: 3 }), /length range \[3, 12\]/);
    assert.throws(() => builtinDataset('graph', { n: 1, maxCommunities: 5 }), /at most 4 communities/);
    assert.throws(() => builtinDataset('speech', { n: -1 }), /n must be a non-negative integer/);
  });
});

describe('ambiguity', () => {
  const data = generateAmbiguity(0, 2000);
  const tagOf = new Map<string, Set<string>>();
  for (const ex of data) ex.tokens!.forEach((w, i) => tagOf.set(w, (tagOf.get(w) ?? new Set()).add(ex.labels[i]!)));

  test('lengths 4-12, the eight tags, about 60 words, only the ambiguous words have two tags', () => {
    for (const ex of data) {
      assert.ok(ex.tokens!.length >= 4 && ex.tokens!.length <= 12);
      assert.equal(ex.labels.length, ex.tokens!.length);
    }
    const lengths = new Set(data.map((e) => e.tokens!.length));
    assert.equal(lengths.size, 9);
    assert.deepEqual(new Set(data.flatMap((e) => e.labels)), new Set(AMBIGUITY_TAGS));
    const words = new Set(Object.values(AMBIGUITY_LEXICON).flat().concat(AMBIGUOUS_WORDS));
    assert.ok(words.size >= 55 && words.size <= 70, `${words.size} words`);
    assert.equal(tagOf.size, words.size);
    for (const [w, tags] of tagOf) assert.deepEqual([...tags].sort(), AMBIGUOUS_WORDS.includes(w) ? ['NOUN', 'VERB'] : [[...tags][0]], w);
    // like "I saw a saw": one word with both tags in one sentence
    const both = data.filter((e) => AMBIGUOUS_WORDS.some((w) => new Set(e.labels.filter((_, i) => e.tokens![i] === w)).size === 2));
    assert.ok(both.length > 20, `${both.length} sentences`);
  });

  test('each ambiguous word is close to 50/50 VERB/NOUN: the majority tag gets at most 55%', () => {
    let ambiguous = 0;
    for (const w of AMBIGUOUS_WORDS) {
      let noun = 0;
      let verb = 0;
      for (const ex of data) ex.tokens!.forEach((t, i) => { if (t === w) ex.labels[i] === 'NOUN' ? noun++ : verb++; });
      assert.ok(noun + verb >= 100, `${w}: ${noun + verb} uses`);
      assert.ok(Math.max(noun, verb) / (noun + verb) <= 0.55, `${w}: NOUN ${noun}, VERB ${verb}`);
      ambiguous += noun + verb;
    }
    assert.ok(ambiguous / data.reduce((s, e) => s + e.tokens!.length, 0) > 0.1);
  });

  test('a per-word majority tagger learned on a train split scores about 50% on ambiguous test words', () => {
    const [train, test_] = split(data, [0.8, 0.2], 1) as [TaggedExample[], TaggedExample[]];
    const votes = new Map<string, number>(); // NOUN minus VERB
    for (const ex of train) ex.tokens!.forEach((w, i) => votes.set(w, (votes.get(w) ?? 0) + (ex.labels[i] === 'NOUN' ? 1 : -1)));
    let right = 0;
    let total = 0;
    for (const ex of test_) ex.tokens!.forEach((w, i) => {
      if (!AMBIGUOUS_WORDS.includes(w)) return;
      total++;
      if ((votes.get(w)! >= 0 ? 'NOUN' : 'VERB') === ex.labels[i]) right++;
    });
    assert.ok(right / total < 0.6, `${right}/${total}`);
  });

  test('context decides: "previous non-ADJ word is a DET -> NOUN, else VERB" recovers every ambiguous tag', () => {
    const det = new Set(AMBIGUITY_LEXICON.DET);
    const adj = new Set(AMBIGUITY_LEXICON.ADJ);
    let checked = 0;
    for (const ex of data) ex.tokens!.forEach((w, i) => {
      if (!AMBIGUOUS_WORDS.includes(w)) return;
      let j = i - 1;
      while (j >= 0 && adj.has(ex.tokens![j]!)) j--;
      assert.equal(j >= 0 && det.has(ex.tokens![j]!) ? 'NOUN' : 'VERB', ex.labels[i], ex.tokens!.join(' '));
      checked++;
    });
    assert.ok(checked > 1000);
  });

  test('the first k of n sentences are the k of a shorter run', () => {
    assert.deepEqual(generateAmbiguity(0, 50), data.slice(0, 50));
  });
});

describe('reverse, sort, copy', () => {
  test('targets and default ranges', () => {
    const rev = builtinDataset('reverse', { seed: 3, n: 300 });
    const srt = builtinDataset('sort', { seed: 3, n: 300 });
    const cpy = builtinDataset('copy', { seed: 3, n: 300 });
    assert.deepEqual(rev.map((p) => p.source), srt.map((p) => p.source));
    for (let i = 0; i < 300; i++) {
      const s = rev[i]!.source;
      assert.ok(s.length >= 3 && s.length <= 10);
      assert.ok(s.every((c) => /^[a-j]$/.test(c)));
      assert.deepEqual(rev[i]!.target, [...s].reverse());
      assert.deepEqual(srt[i]!.target, [...s].sort());
      assert.deepEqual(cpy[i]!.target, cpy[i]!.source);
    }
    assert.equal(new Set(rev.map((p) => p.source.length)).size, 8);
    assert.equal(new Set(rev.flatMap((p) => p.source)).size, 10);
  });
});

describe('speech', () => {
  const data = generateSpeech(0, 300);
  const means = speechPhonemeMeans();

  test('20-60 frames of dimension 8, segments of 3-8 frames, vowel/consonant alternation', () => {
    const vowels = new Set(SPEECH_PHONEMES.slice(0, 5));
    for (const ex of data) {
      assert.ok(ex.frames!.length >= 20 && ex.frames!.length <= 60);
      assert.equal(ex.labels.length, ex.frames!.length);
      assert.ok(ex.frames!.every((f) => f.length === 8 && f.every(Number.isFinite)));
      const segs: [string, number][] = [];
      for (const l of ex.labels) segs.length && segs[segs.length - 1]![0] === l ? segs[segs.length - 1]![1]++ : segs.push([l, 1]);
      for (const [, len] of segs) assert.ok(len >= 3 && len <= 8, ex.labels.join(' '));
      for (let s = 1; s < segs.length; s++) assert.notEqual(vowels.has(segs[s]![0]), vowels.has(segs[s - 1]![0]));
    }
    assert.deepEqual(new Set(data.flatMap((e) => e.labels)), new Set(SPEECH_PHONEMES));
  });

  test('one frame alone is ambiguous; a window of neighbours helps', () => {
    const confusable = new Set(SPEECH_CONFUSABLE.flat());
    const score = (w: number) => {
      let [right, total, cRight, cTotal] = [0, 0, 0, 0];
      for (const ex of data) ex.frames!.forEach((_, t) => {
        const win = ex.frames!.slice(Math.max(0, t - w), t + w + 1);
        const ok = SPEECH_PHONEMES[nearest(means, meanOf(win))] === ex.labels[t];
        total++;
        if (ok) right++;
        if (confusable.has(ex.labels[t]!)) {
          cTotal++;
          if (ok) cRight++;
        }
      });
      return { all: right / total, confusable: cRight / cTotal };
    };
    const one = score(0);
    const three = score(1);
    assert.ok(one.all > 0.6 && one.all < 0.8, JSON.stringify(one));
    assert.ok(one.confusable < 0.7, JSON.stringify(one));
    assert.ok(three.all > one.all + 0.08, JSON.stringify([one, three]));
  });

  test('the neighbouring vowel decides each confusable pair', () => {
    const back = new Set(['aa', 'ao', 'uw']);
    const front = new Set(['iy', 'eh']);
    for (const ex of data) ex.labels.forEach((l, t) => {
      const pair = SPEECH_CONFUSABLE.find((p) => p.includes(l));
      if (!pair) return;
      const near = [...ex.labels.slice(0, t).reverse(), ...ex.labels.slice(t)].find((x) => back.has(x) || front.has(x))!;
      assert.equal(l, pair[back.has(near) ? 0 : 1]);
    });
  });
});

describe('graph', () => {
  const data = generateGraph(0, 400);
  const means = graphClassMeans();

  test('8-20 nodes, 2-4 communities of at least 2 nodes, valid undirected edges, every node linked within its community', () => {
    for (const ex of data) {
      const n = ex.frames!.length;
      assert.ok(n >= 8 && n <= 20);
      const counts = new Map<string, number>();
      for (const l of ex.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
      assert.ok(counts.size >= 2 && counts.size <= 4);
      for (const c of counts.values()) assert.ok(c >= 2);
      const seen = new Set<string>();
      for (const [a, b] of ex.edges!) {
        assert.ok(Number.isInteger(a) && a >= 0 && a < b && b < n);
        assert.ok(!seen.has(`${a},${b}`));
        seen.add(`${a},${b}`);
      }
      ex.labels.forEach((l, i) => assert.ok(ex.edges!.some(([a, b]) => (a === i && ex.labels[b] === l) || (b === i && ex.labels[a] === l))));
    }
    assert.deepEqual(new Set(data.flatMap((e) => e.labels)), new Set(GRAPH_CLASSES));
  });

  test("own features give 60-70%; the mean over the node and its neighbours gives much more", () => {
    let [own, hood, total] = [0, 0, 0];
    for (const ex of data) {
      const nbrs = ex.frames!.map((_, i) => [i]);
      for (const [a, b] of ex.edges!) nbrs[a]!.push(b), nbrs[b]!.push(a);
      ex.frames!.forEach((f, i) => {
        total++;
        if (GRAPH_CLASSES[nearest(means, f)] === ex.labels[i]) own++;
        if (GRAPH_CLASSES[nearest(means, meanOf(nbrs[i]!.map((j) => ex.frames![j]!)))] === ex.labels[i]) hood++;
      });
    }
    assert.ok(own / total > 0.6 && own / total < 0.72, `own ${own / total}`);
    assert.ok(hood / total > own / total + 0.12, `own ${own / total}, neighbourhood ${hood / total}`);
  });
});

describe('relations', () => {
  const S = RELATIONS_SIZE;
  /** Bright 4-connected blobs of an image (the shapes; noise pixels rarely pass the threshold together). */
  const blobs = (img: Float32Array): number => {
    const on = (k: number) => img[k]! > 0.55; // shapes are drawn at 0.65-1.0 in [0, 1], normalised to > 0.3
    const seen = new Uint8Array(S * S);
    let count = 0;
    for (let k = 0; k < S * S; k++) {
      if (!on(k) || seen[k]) continue;
      let size = 0;
      const stack = [k];
      seen[k] = 1;
      while (stack.length) {
        const p = stack.pop()!;
        size++;
        const [r, c] = [Math.floor(p / S), p % S];
        for (const [dr, dc] of [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [1, -1], [-1, 1], [-1, -1]] as const) {
          const [rr, cc] = [r + dr, c + dc];
          const q2 = rr * S + cc;
          if (rr >= 0 && rr < S && cc >= 0 && cc < S && on(q2) && !seen[q2]) { seen[q2] = 1; stack.push(q2); }
        }
      }
      if (size >= 6) count++;
    }
    return count;
  };

  test('six labels in turn; one shape for a kind, two apart for same / different; 16×16 gray images', () => {
    const xs = builtinDataset('relations', { seed: 3, n: 120, noise: 0 });
    assert.deepEqual(xs.slice(0, 6).map((e) => e.label), [...RELATION_CLASSES]);
    for (const e of xs) {
      assert.deepEqual([e.image!.channels, e.image!.height, e.image!.width], [1, S, S]);
      const img = Float32Array.from(e.image!.data, (v) => v * 0.5 + 0.5); // back to [0, 1]
      const n = blobs(img);
      assert.equal(n, e.label === 'same' || e.label === 'different' ? 2 : 1, `${e.label}: ${n} shapes`);
    }
  });

  test('large sets finish: a first shape that leaves no room for a second apart is placed again', () => {
    // seed 1 used to loop forever between its 600th and 1,200th image (a 6-pixel shape in the middle), which
    // made `cnn-vs-attention-data` at the default size look merely slow
    const xs = builtinDataset('relations', { seed: 1, n: 3000, noise: 0 });
    assert.equal(xs.length, 3000);
    for (const e of xs.filter((_, i) => i % 6 >= 4).slice(0, 400)) assert.equal(blobs(Float32Array.from(e.image!.data, (v) => v * 0.5 + 0.5)), 2);
  });
});
