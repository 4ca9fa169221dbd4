// Byte-level BPE: the trainer gives Hugging Face's merges, the saved tokenizer.json encodes
// the same in Hugging Face's tokenizers (Rust `tokenizers` and `@huggingface/tokenizers`),
// decode(encode(s)) = s for any Unicode text (fast-check), and bad files are one line each.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { QkvError } from '../../../src/core/errors.js';
import { BpeTokenizer, DataError, parseTokenizerJson, serializeTokenizerJson, toTokenizerJson } from '../../../src/data/index.js';
import { linesWithNewlines, PROBES, variedText } from './hf-text.js';

// Hugging Face's Rust tokenizers (native .node files inside the npm package, one per platform).
type RustTokenizer = {
  train(files: string[]): void; save(path: string): void;
  encode(s: string): Promise<{ getIds(): number[] }>; decode(ids: number[], skip: boolean): Promise<string>;
};
type RustModule = {
  Tokenizer: { new (model: unknown): RustTokenizer; fromString(s: string): RustTokenizer };
  BPE: { empty(): unknown };
  byteLevelPreTokenizer(addPrefixSpace: boolean, useRegex: boolean): unknown;
};
let rust: RustModule | null = null;
let rustSkip: string | false = false;
try {
  rust = createRequire(import.meta.url)('tokenizers') as RustModule;
} catch (e) {
  rustSkip = `the npm package "tokenizers" has no native build for this platform (${(e as Error).message.split('\n')[0]})`;
}

const text = variedText();

describe('BPE trainer vs Hugging Face BpeTrainer', { skip: rustSkip }, () => {
  for (const [name, corpus] of [['the varied text', text], ['a short text', 'low lower lowest\nnewer wider new\n'.repeat(5)]] as const) {
    test(`same vocabulary and merges, in order (${name})`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'qkv-bpe-'));
      try {
        const file = join(dir, 'train.txt');
        writeFileSync(file, corpus);
        // Node's binding trains with the model's default trainer: vocab_size 30000, min_frequency 0,
        // no initial alphabet; qkv with the same settings must give the same merges.
        const hf = new rust!.Tokenizer(rust!.BPE.empty());
        (hf as unknown as { setPreTokenizer(p: unknown): void }).setPreTokenizer(rust!.byteLevelPreTokenizer(false, true));
        hf.train([file]);
        hf.save(join(dir, 'hf.json'));
        const hfJson = JSON.parse(readFileSync(join(dir, 'hf.json'), 'utf8'));
        const ours = toTokenizerJson(BpeTokenizer.train(linesWithNewlines(corpus), { vocabSize: 30000, minFrequency: 0, fullAlphabet: false })) as { model: { vocab: object; merges: string[][] } };
        const hfMerges = (hfJson.model.merges as (string | string[])[]).map((m) => (typeof m === 'string' ? m.split(' ') : m));
        assert.ok(hfMerges.length > 10, `a real test needs merges (${hfMerges.length})`);
        assert.deepEqual(ours.model.merges, hfMerges);
        assert.deepEqual(ours.model.vocab, hfJson.model.vocab);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('a smaller vocabulary is a prefix of the same merges (full byte alphabet, specials)', () => {
    const full = BpeTokenizer.train(linesWithNewlines(text), { vocabSize: 30000, minFrequency: 0, fullAlphabet: false });
    const small = BpeTokenizer.train(linesWithNewlines(text), { vocabSize: 400, minFrequency: 0, specials: ['<pad>', '<unk>'] });
    assert.equal(small.size, 400);
    assert.deepEqual(small.model.merges, full.model.merges.slice(0, 400 - 258));
  });
});

describe('a saved tokenizer.json encodes the same in Hugging Face', () => {
  const t = BpeTokenizer.train([text], { vocabSize: 600, specials: ['<pad>', '<unk>', '<bos>', '<eos>'] });
  const json = serializeTokenizerJson(t);
  const texts = [...PROBES, text.slice(0, 2000), '<bos> the cat<eos><pad>'];

  test('@huggingface/tokenizers: ids and decoded text', () => {
    const hf = new JsTokenizer(JSON.parse(json), {});
    for (const s of texts) {
      const ids = [...t.encode(s)];
      assert.deepEqual(hf.encode(s, { add_special_tokens: false }).ids, ids, JSON.stringify(s));
      if (ids.length) assert.equal(hf.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }), t.decode(ids), JSON.stringify(s));
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      assert.deepEqual(hf.encode(s, { add_special_tokens: false }).ids, [...t.encode(s)]);
    }), { numRuns: 300, seed: 11 });
  });

  test('Rust tokenizers: ids and decoded text, on the probes and on random Unicode', { skip: rustSkip }, async () => {
    const hf = rust!.Tokenizer.fromString(json);
    for (const s of texts) {
      const ids = [...t.encode(s)];
      assert.deepEqual((await hf.encode(s)).getIds(), ids, JSON.stringify(s));
      assert.equal(await hf.decode(ids, false), t.decode(ids));
    }
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), async (s) => {
      assert.deepEqual((await hf.encode(s)).getIds(), [...t.encode(s)]);
    }), { numRuns: 300, seed: 11 });
  });

  test('loading the file back gives the same tokenizer', () => {
    const back = parseTokenizerJson(json, 'tok.json');
    assert.deepEqual(back.specials, t.specials);
    assert.equal(serializeTokenizerJson(back), json);
    for (const s of texts) assert.deepEqual(back.encode(s), t.encode(s));
  });
});

describe('encode/decode round trip', () => {
  const t = BpeTokenizer.train([text], { vocabSize: 400 });
  test('any Unicode text (fast-check), pieces never unknown', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
      const ids = t.encode(s);
      for (const id of ids) assert.ok(id >= 0 && id < t.size);
      assert.equal(t.decode(ids), s);
    }), { numRuns: 1000, seed: 3 });
  });
  test('text made of the training words compresses (several bytes per token)', () => {
    const s = text.slice(0, 5000);
    const bytes = new TextEncoder().encode(s).length;
    assert.ok(bytes / t.encode(s).length > 2, `${bytes / t.encode(s).length} bytes per token`);
  });
  test('encodeWords: word i is encoded with its leading space', () => {
    const words = ['the', 'theatre', '日本語'];
    const pieces = t.encodeWords(words);
    assert.deepEqual(pieces.flatMap((p) => [...p]), [...t.encode('the theatre 日本語')]);
  });
});

describe('bad input: one line each', () => {
  const ok = JSON.parse(serializeTokenizerJson(BpeTokenizer.train(['ab ab ab'], { vocabSize: 260 })));
  const fails = (j: unknown, re: RegExp) => assert.throws(() => parseTokenizerJson(typeof j === 'string' ? j : JSON.stringify(j), 'tok.json'), (e: Error) => {
    assert.ok(e instanceof DataError, String(e));
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  test('a model of another kind, or settings qkv does not implement, name the file and the kind', () => {
    fails({ ...ok, model: { type: 'WordPiece', vocab: {} } }, /^tok\.json: the model kind "WordPiece" is not supported/);
    fails({ ...ok, model: { type: 'Unigram', vocab: [] } }, /^tok\.json: the model kind "Unigram"/);
    fails({ ...ok, pre_tokenizer: { type: 'Metaspace' } }, /^tok\.json: the pre-tokenizer "Metaspace" is not supported/);
    fails({ ...ok, normalizer: { type: 'NFC' } }, /^tok\.json: the normalizer "NFC"/);
    fails({ ...ok, model: { ...ok.model, merges: [['a', 'zz']] } }, /^tok\.json: merge 1 .*"zz" is not in the vocab/);
    fails({ ...ok, model: { ...ok.model, vocab: { ...ok.model.vocab, x: 0 } } }, /share the id 0/);
  });
  test('malformed JSON and a non-object', () => {
    fails('{"model": ', /^tok\.json: not valid JSON/);
    fails('[1, 2]', /^tok\.json: expected a JSON object/);
  });
  test('a vocabulary size that is too small or not an integer', () => {
    assert.throws(() => BpeTokenizer.train(['ab'], { vocabSize: 100 }), (e: Error) => e instanceof QkvError && /at least 256/.test(e.message));
    assert.throws(() => BpeTokenizer.train(['ab'], { vocabSize: 300.5 }), /must be an integer/);
    assert.throws(() => BpeTokenizer.train(['ab'], { vocabSize: 257, specials: ['<pad>', '<unk>'] }), /at least 258 \(2 special tokens \+ 256 bytes\)/);
  });
});
