// Crashes of the bad-input catalogue, each now one line (or the right result): a
// CoNLL-U file given as a pipe, an --out or --report under /proc, `qkv experiment --from` a
// JSON without its measures, --monitor with a metric the task lacks, --config giving "out" or
// "input", 2-5 item WAV and image lists, viz of BPE models and of a GPT whose saved prompt is
// longer than its block size, empty output paths, --dropout 1, warnings beside a refusal,
// loadInstance on a path alone, and resuming without a length flag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { failsWith, ok } from './expect.js';
import { data, encodePng, Generator, loadInstance, QkvError } from '../../src/index.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-crashes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
const tiny = ['--max-steps', '2', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2'];

test('a CoNLL-U file given as a pipe (--train <(cat x.conllu)) trains', () => {
  ok(run(['data', '--builtin', 'ambiguity', '--out', 'ud.conllu', '--n', '60']), 'qkv data');
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" train tag --train <(cat ud.conllu) --format conllu --out piped ${tiny.join(' ')}`], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  ok(r, 'train from a pipe');
  assert.ok(existsSync(join(dir, 'piped', 'best')));
});

test('--out and --report under /proc are refused at once (mkdir -p there spins forever)', () => {
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', '/proc/qkv-run', ...tiny]), /^qkv: --out \/proc\/qkv-run: refusing to write under \/proc/);
  failsWith(run(['experiment', 'positions', '--quick', '--seeds', '1', '--report', '/proc/self/qkv-report']), /^qkv: --report \/proc\/self\/qkv-report: refusing to write under \/proc/);
  failsWith(run(['demo', '--out', '/sys/qkv']), /^qkv: --out \/sys\/qkv: refusing to write under \/sys/);
});

test('experiment --from a JSON without its measures is one line', () => {
  writeFileSync(join(dir, 'positions.json'), JSON.stringify({ name: 'positions', summary: [], charts: [] }));
  failsWith(run(['experiment', 'positions', '--from', '.', '--report', 'out']), /^qkv: --from .*positions\.json: no "measures" object/);
});


const tinyLm = ['--n-embd', '8', '--n-head', '2', '--n-layer', '1', '--max-iters', '2', '--eval-interval', '2', '--eval-iters', '1', '--batch-size', '2'];
writeFileSync(join(dir, 'lm.txt'), Array.from({ length: 40 }, (_, i) => `the cat number ${i} sat on a mat\n`).join(''));
const lines = (r: { stderr: string }) => r.stderr.trim().split('\n').filter(Boolean);

test('--monitor with a metric the task lacks fails before training, naming the flag and the metrics', () => {
  const r = run(['train', 'tag', '--builtin', 'ambiguity', '--n', '40', '--out', 'monitor-bad', ...tiny, '--monitor', 'bleu']);
  failsWith(r, /^qkv: monitor "bleu" \(--monitor\): .*no metric "bleu"; it reports accuracy, macroF1/);
  assert.ok(!existsSync(join(dir, 'monitor-bad', 'last')), 'nothing trained or saved');
  const lm = run(['train', 'lm', '--data', 'lm.txt', '--out', 'monitor-lm', '--block-size', '8', ...tinyLm, '--monitor', 'accuracy']);
  failsWith(lm, /^qkv: monitor "accuracy" \(--monitor\): .*it reports trainLoss, valLoss, valPerplexity/);
  const good = run(['train', 'tag', '--builtin', 'ambiguity', '--n', '40', '--out', 'monitor-ok', ...tiny, '--monitor', 'macroF1', '--json']);
  ok(good, '--monitor macroF1');
  assert.equal(JSON.parse(good.stdout).best.metric, 'macroF1');
});

test('--config: "out" counts as --out, "input" is viz\'s --input (a string or an array), an unknown key is one line', () => {
  writeFileSync(join(dir, 'out.json'), JSON.stringify({ out: 'from-config', 'max-steps': 2, 'eval-every': 2, 'd-model': 8, layers: 1, heads: 2 }));
  ok(run(['train', 'tag', '--builtin', 'ambiguity', '--n', '40', '--config', 'out.json']), 'out from --config');
  assert.ok(existsSync(join(dir, 'from-config', 'best')));
  writeFileSync(join(dir, 'in-tag.json'), JSON.stringify({ input: 'x.txt' }));
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', 'never', '--config', 'in-tag.json']), /^qkv: --config in-tag\.json: unknown option "input"/);
  writeFileSync(join(dir, 'in-one.json'), JSON.stringify({ input: 'I saw a saw', export: 'one.html' }));
  ok(run(['viz', '--model', 'from-config', '--config', 'in-one.json']), 'viz --config input');
  writeFileSync(join(dir, 'in-two.json'), JSON.stringify({ input: ['I saw', 'a saw'], export: 'two.html' }));
  const two = run(['viz', '--model', 'from-config', '--config', 'in-two.json']);
  ok(two, 'viz --config input array');
  assert.match(two.stdout, /2 inputs/);
  writeFileSync(join(dir, 'in-bad.json'), JSON.stringify({ input: [{}], export: 'bad.html' }));
  failsWith(run(['viz', '--model', 'from-config', '--config', 'in-bad.json']), /^qkv: --config in-bad\.json: "input" must be a string or a number/);
  writeFileSync(join(dir, 'predict-in.json'), JSON.stringify({ input: 'sentences.txt' }));
  writeFileSync(join(dir, 'sentences.txt'), 'I saw a saw\n');
  const p = run(['predict', '--model', 'from-config', '--config', 'predict-in.json']);
  ok(p, 'predict --config input');
  assert.equal(p.stdout.trim().split('\n').length, 1);
});

test('a 2-5 item WAV or image list gets one example held out for dev, and says so', () => {
  const spoken = fileURLToPath(new URL('../../../data/spoken/', import.meta.url));
  const wavs = readdirSync(spoken).filter((f) => f.endsWith('.wav')).slice(0, 5);
  const g = new Generator(3);
  mkdirSync(join(dir, 'img'), { recursive: true });
  const shapes = ['disk', 'plus', 'cross', 'square', 'disk'];
  shapes.forEach((s, i) => writeFileSync(join(dir, 'img', `${i}.png`), encodePng(data.drawShape(s as 'disk', g))));
  for (const n of [2, 3, 5]) {
    writeFileSync(join(dir, `wav${n}.tsv`), wavs.slice(0, n).map((f) => `${join(spoken, f)}\t${f.slice(0, 3)}`).join('\n') + '\n');
    writeFileSync(join(dir, `img${n}.tsv`), shapes.slice(0, n).map((s, i) => `img/${i}.png\t${s}`).join('\n') + '\n');
    for (const list of [`wav${n}.tsv`, `img${n}.tsv`]) {
      const r = run(['train', 'classify', '--train', list, '--out', `tiny-${list}`, ...tiny, '--json']);
      ok(r, list);
      const s = JSON.parse(r.stdout);
      assert.deepEqual(s.dev, { used: 1, of: 1 }, `${list}: one dev example`);
      assert.match(r.stderr, new RegExp(`${list.replace('.', '\\.')} has only ${n} examples: 1 held out at random for dev, ${n - 1} to train on`));
    }
  }
});

test('qkv viz of a BPE-tokenized tag model: the pieces are the positions, each word\'s tag on its first piece; a --viz run on it records', () => {
  ok(run(['train', 'tag', '--builtin', 'ambiguity', '--n', '100', '--tokenize', 'bpe', '--vocab-size', '300', '--out', 'bpe', ...tiny, '--viz']), 'train bpe --viz');
  const watch = readFileSync(join(dir, 'bpe', 'attention.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(watch.length, 1);
  const r = run(['viz', '--model', 'bpe', '--export', 'bpe.html', '--input', 'I saw a saw']);
  ok(r, 'viz bpe');
  const html = readFileSync(join(dir, 'bpe.html'), 'utf8');
  const inspection = JSON.parse(/"inspections":(\[.*?\]),"training"/s.exec(html)?.[1] ?? 'null');
  assert.ok(inspection, 'the page carries its inspection');
  const res = inspection[0].result;
  assert.equal(res.tokens.join(''), 'I saw a saw', 'the pieces spell the input');
  assert.equal(res.prediction.length, res.tokens.length);
  assert.equal(res.prediction.filter((p: string) => p !== '').length, 4, 'one tag per word');
  assert.equal(res.layers[0].heads[0].alphaPrime.length, res.tokens.length);
  assert.deepEqual(watch[0].tokens, res.tokens);
});

test('qkv viz of a GPT whose saved prompt is longer than its block size: cut to fit, and said', () => {
  ok(run(['train', 'lm', '--data', 'lm.txt', '--out', 'gpt8', '--block-size', '8', ...tinyLm]), 'train lm');
  const r = run(['viz', '--model', 'gpt8', '--export', 'gpt8.html']);
  ok(r, 'viz gpt8');
  assert.match(r.stderr, /^qkv viz: the model's saved prompt has \d+ tokens, more than its block size 8: showing its first 4 \("the "\)$/m);
  // a typed prompt without --max-new-tokens generates what the block size leaves
  ok(run(['viz', '--model', 'gpt8', '--export', 'gpt8b.html', '--input', 'the ca']), 'viz gpt8 --input');
  failsWith(run(['viz', '--model', 'gpt8', '--export', 'gpt8c.html', '--input', 'the cat num']), /the prompt has 11 tokens; the model reads at most 8/);
});

test('empty output paths, --dropout 1 and a refused flag beside an ignored one: one line each', () => {
  failsWith(run(['viz', '--model', 'from-config', '--export', '']), /^qkv: --export: the path is empty/);
  failsWith(run(['export', '--model', 'from-config', '--onnx', '']), /^qkv: --onnx: the path is empty/);
  failsWith(run(['export', '--model', 'from-config', '--torch', '']), /^qkv: --torch: the path is empty/);
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', '']), /^qkv: --out: the path is empty/);
  for (const task of [['tag', '--builtin', 'ambiguity'], ['seq2seq', '--builtin', 'reverse'], ['lm', '--data', 'lm.txt']]) {
    failsWith(run(['train', ...task, '--out', 'never', '--dropout', '1']), /--dropout must be a number >= 0 and < 1/);
  }
  // --heads is ignored by a CNN (a warning when the run trains); the bad --kernel is all a refused run prints
  const r = run(['train', 'tag', '--builtin', 'ambiguity', '--out', 'never', '--model', 'cnn', '--heads', '3', '--kernel', '2']);
  failsWith(r, /^qkv: --kernel must be odd/);
  assert.equal(lines(r).length, 1, r.stderr);
  const warned = run(['train', 'tag', '--builtin', 'ambiguity', '--n', '40', '--out', 'cnn-ok', '--model', 'cnn', '--heads', '4', '--max-steps', '1', '--eval-every', '1']);
  ok(warned, 'cnn with --heads');
  assert.match(warned.stderr, /--heads is ignored/);
});

test('loadInstance on a path alone (no driver) is one QkvError', () => {
  assert.throws(() => loadInstance('runs/x' as never, undefined as never), (e: unknown) => e instanceof QkvError && /first argument must be a task driver.*loadModel\("runs\/x"\)/.test((e as Error).message));
});

test('resuming without a length flag keeps the run\'s own length', () => {
  ok(run(['train', 'tag', '--builtin', 'ambiguity', '--n', '40', '--out', 'keep', '--max-steps', '4', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2']), 'train 4 steps');
  copyFileSync(join(dir, 'keep', 'last', 'config.json'), join(dir, 'keep-config.json'));
  const r = run(['train', 'tag', '--builtin', 'ambiguity', '--n', '40', '--out', 'keep', '--resume', '--d-model', '8', '--layers', '1', '--heads', '2', '--json']);
  ok(r, 'resume');
  assert.doesNotMatch(r.stderr, /the run is now/);
  const s = JSON.parse(r.stdout);
  assert.equal(s.steps, 0, 'the run had reached its 4 steps: nothing more to train');
  assert.equal(s.stop.reason, 'steps');
  assert.equal(JSON.parse(readFileSync(join(dir, 'keep', 'last', 'config.json'), 'utf8')).training.maxSteps, 4);
});
