// --tokenize bpe end to end: `qkv train lm --tokenize bpe` learns (val loss well under a
// uniform guess), its checkpoint carries tokenizer.json which Hugging Face loads and encodes
// identically, `qkv info` describes it, `qkv generate` continues any Unicode prompt;
// one-line errors for a bad --vocab-size and a tokenizer.json of an unknown kind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { parseTokenizerJson } from '../../src/index.js';
import { syntheticText } from '../tasks/lm-text.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-bpe-cli-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: input ?? '', cwd: dir });
const text = syntheticText(6000, 7);
const data = join(dir, 'small.txt');
writeFileSync(data, text);
const out = join(dir, 'lm-bpe');
const model = ['--n-layer', '1', '--n-head', '2', '--n-embd', '32', '--block-size', '16', '--batch-size', '8', '--eval-iters', '4', '--lr', '1e-2', '--warmup-iters', '5'];

test('qkv train lm --tokenize bpe: learns, and the checkpoint carries a tokenizer.json Hugging Face reads the same', () => {
  const r = run(['train', 'lm', '--data', data, '--tokenize', 'bpe', '--vocab-size', '300', '--max-iters', '40', '--eval-interval', '20', '--out', out, '--json', ...model]);
  ok(r, 'train');
  const s = JSON.parse(r.stdout);
  assert.ok(s.metrics.valLoss < Math.log(300) - 1.5, `val loss ${s.metrics.valLoss} vs ln(300) = ${Math.log(300)}`);
  const config = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
  assert.deepEqual(config.vocab, { kind: 'bpe', size: 300 });
  assert.equal(config.model.vocabSize, 300);
  const json = readFileSync(join(out, 'best', 'tokenizer.json'), 'utf8');
  const ours = parseTokenizerJson(json);
  assert.equal(ours.size, 300);
  // the sentences of the text are few, so 44 merges already halve the token count
  assert.ok(ours.encode(text).length < text.length / 2, `${ours.encode(text).length} tokens for ${text.length} bytes`);
  const hf = new JsTokenizer(JSON.parse(json), {});
  for (const probe of [text.slice(0, 500), 'an unseen sentence: naïve 日本語 🙂']) assert.deepEqual(hf.encode(probe, { add_special_tokens: false }).ids, [...ours.encode(probe)]);
  assert.deepEqual(readFileSync(join(out, 'last', 'tokenizer.json'), 'utf8'), json);
});

test('qkv info names the tokenizer; qkv generate continues a prompt of unseen characters', () => {
  const info = run(['info', out]);
  ok(info, 'info');
  assert.match(info.stdout, /tokens {4}byte-level BPE, 300 tokens \(44 merges\), tokenizer\.json/);
  assert.match(JSON.parse(run(['info', out, '--json']).stdout).tokenizer, /^byte-level BPE, 300 tokens/);
  const g = run(['generate', '--model', out, '--prompt', '日本 the', '--max-new-tokens', '30', '--temperature', '0']);
  ok(g, 'generate');
  assert.ok(g.stdout.startsWith('日本 the'));
  assert.match(g.stdout, /[a-z]{3}/, 'greedy decoding after 40 steps continues with letters');
  const e = run(['eval', '--model', out, '--data', data, '--json']);
  ok(e, 'eval');
  assert.ok(JSON.parse(e.stdout).metrics.tokens < text.length / 2);
});

test('bad input: --vocab-size too small, not an integer, without --tokenize bpe; a tokenizer.json of another kind', () => {
  const base = ['train', 'lm', '--data', data, '--max-iters', '1', ...model];
  failsWith(run([...base, '--out', join(dir, 'x1'), '--tokenize', 'bpe', '--vocab-size', '100']), /--vocab-size must be an integer from 260 to 4194303/);
  failsWith(run([...base, '--out', join(dir, 'x2'), '--tokenize', 'bpe', '--vocab-size', '300.5']), /--vocab-size must be an integer from 260 to 4194303/);
  failsWith(run([...base, '--out', join(dir, 'x3'), '--vocab-size', '300']), /--vocab-size needs --tokenize bpe/);
  const broken = join(dir, 'broken');
  cpSync(join(out, 'best'), broken, { recursive: true });
  const tok = join(broken, 'tokenizer.json');
  writeFileSync(tok, JSON.stringify({ ...JSON.parse(readFileSync(tok, 'utf8')), model: { type: 'WordPiece', vocab: {} } }));
  failsWith(run(['generate', '--model', broken, '--prompt', 'the']), new RegExp(`${tok.replace(/[/.]/g, '\\$&')}: the model kind "WordPiece" is not supported`));
  writeFileSync(tok, '{"model": ');
  failsWith(run(['info', broken]), /tokenizer\.json: not valid JSON/);
});

test('qkv train classify / tag --tokenize bpe, then qkv predict on raw text with the saved tokenizer', () => {
  const tsv = join(dir, 'reviews.tsv');
  const rows = ['a wonderful film\tpos', 'dreadful acting\tneg', 'wonderful wonderful\tpos', 'truly dreadful\tneg'];
  writeFileSync(tsv, `${Array.from({ length: 10 }, () => rows).flat().join('\n')}\n`);
  const small = ['--max-steps', '10', '--eval-every', '10', '--d-model', '16', '--heads', '2', '--layers', '1', '--tokenize', 'bpe', '--vocab-size', '270'];
  const cls = join(dir, 'cls');
  ok(run(['train', 'classify', '--train', tsv, '--out', cls, ...small]), 'train classify');
  const p = run(['predict', '--model', cls, '--json'], 'never seen 🙂 wonderful\nnaïve dreadful\n');
  ok(p, 'predict classify');
  const lines = p.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const l of lines) assert.ok(['pos', 'neg'].includes(l.label));
  assert.match(run(['info', cls]).stdout, /tokens {4}byte-level BPE, \d+ tokens \(\d+ merges, specials <pad> <unk>\)/);
  const tag = join(dir, 'tag');
  ok(run(['train', 'tag', '--builtin', 'ambiguity', '--n', '100', '--out', tag, ...small]), 'train tag');
  const t = run(['predict', '--model', tag], 'I saw a saw\nextraordinarily unseen wörds\n');
  ok(t, 'predict tag');
  const [first, second] = t.stdout.trim().split('\n');
  assert.match(first!, /^I\/\S+ saw\/\S+ a\/\S+ saw\/\S+$/, 'one tag per word, read from its first piece');
  assert.match(second!, /^extraordinarily\/\S+ unseen\/\S+ wörds\/\S+$/);
});
