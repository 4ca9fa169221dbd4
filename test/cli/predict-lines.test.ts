// `qkv predict` keeps one output line per input line (empty in, empty out) from a file, a
// redirected file and a pipe; answers each line as it arrives on a pipe (before end of input);
// names the source characters a seq2seq model never saw; refuses JSONL frames given to a model
// of words, with the line number in the whole input.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-predict-lines-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, input });
const small = ['--d-model', '16', '--heads', '2', '--layers', '1', '--max-steps', '4', '--eval-every', '4'];

describe('qkv predict, line by line', () => {
  before(() => {
    ok(run(['train', 'tag', '--builtin', 'ambiguity', '--out', 'tag', ...small]), 'train tag');
    ok(run(['train', 'seq2seq', '--builtin', 'reverse', '--out', 'rev', ...small]), 'train seq2seq');
  });

  test('empty lines give empty output lines: --input, stdin from a file, a pipe, --json', () => {
    const text = 'I saw a saw\n\n  \nthe duck can fly\n\n';
    writeFileSync(join(dir, 'in.txt'), text);
    const fromFile = run(['predict', '--model', 'tag', '--input', 'in.txt']);
    ok(fromFile, 'predict --input');
    const lines = fromFile.stdout.split('\n');
    assert.equal(lines.length, 6, JSON.stringify(fromFile.stdout)); // 5 lines, each ended by \n
    assert.match(lines[0]!, /^I\/\w+ saw\/\w+ a\/\w+ saw\/\w+$/);
    assert.deepEqual([lines[1], lines[2], lines[4]], ['', '', '']);
    assert.match(lines[3]!, /^the\/\w+ duck\/\w+ can\/\w+ fly\/\w+$/);
    const piped = run(['predict', '--model', 'tag'], text);
    ok(piped, 'predict from a pipe');
    assert.equal(piped.stdout, fromFile.stdout);
    const fd = openSync(join(dir, 'in.txt'), 'r');
    try {
      const redirected = spawnSync(process.execPath, [bin, 'predict', '--model', 'tag'], { encoding: 'utf8', cwd: dir, stdio: [fd, 'pipe', 'pipe'] });
      ok(redirected, 'predict < in.txt');
      assert.equal(redirected.stdout, fromFile.stdout);
    } finally {
      closeSync(fd);
    }
    const json = run(['predict', '--model', 'tag', '--input', 'in.txt', '--json']).stdout.trim().split('\n');
    assert.equal(json.length, 5);
    assert.deepEqual(json.map((l) => JSON.parse(l) === null), [false, true, true, false, true]);
    // seq2seq: a line with an empty source is an empty output
    const s = run(['predict', '--model', 'rev'], 'abc\n\nbca\n');
    ok(s, 'seq2seq predict');
    const out = s.stdout.split('\n');
    assert.equal(out.length, 4);
    assert.equal(out[1], '');
  });

  test('on a pipe each line is answered before the next one is written', async () => {
    const child = spawn(process.execPath, [bin, 'predict', '--model', 'tag'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const waitFor = (lines: number) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within 20 s (stdout ${JSON.stringify(out)}, stderr ${err})`)), 20_000);
      const check = () => { if (out.split('\n').length > lines) { clearTimeout(timer); child.stdout.off('data', onData); resolve(); } };
      const onData = (d: Buffer) => { out += d.toString(); check(); };
      child.stdout.on('data', onData);
      check();
    });
    child.stdin.write('I saw a saw\n');
    await waitFor(1); // answered while standard input is still open
    assert.match(out, /^I\/\w+ saw\/\w+ a\/\w+ saw\/\w+\n$/);
    child.stdin.write('\n');
    await waitFor(2);
    child.stdin.write('the duck\n');
    await waitFor(3);
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, err);
    assert.match(out, /^I\/\w+ saw\/\w+ a\/\w+ saw\/\w+\n\nthe\/\w+ duck\/\w+\n$/);
  });

  test('seq2seq: characters the source vocabulary lacks are named on stderr with their line', () => {
    const r = run(['predict', '--model', 'rev'], 'abc\nxyz\n\nabq\n');
    ok(r, 'predict');
    assert.equal(r.stdout.split('\n').length, 5);
    const warnings = r.stderr.trim().split('\n');
    assert.equal(warnings.length, 2, r.stderr);
    assert.match(warnings[0]!, /^qkv: <stdin>:2: "x", "y", "z" are not in the model's source vocabulary \(read as <unk>\)/);
    assert.match(warnings[1]!, /^qkv: <stdin>:4: "q" is not in the model's source vocabulary/);
    assert.equal(run(['predict', '--model', 'rev'], 'abc\ncab\n').stderr, '', 'no warning when every character is known');
  });

  test('a model of words refuses JSONL frames, naming the line in the whole input', () => {
    failsWith(run(['predict', '--model', 'tag'], 'I saw\n{"frames": [[1, 2]]}\n'), /^qkv: <stdin>:2: a JSON object with "frames", but this model reads text/);
    writeFileSync(join(dir, 'graph.jsonl'), '\n\n{"nodes": [[1]], "edges": []}\n');
    failsWith(run(['predict', '--model', 'tag', '--input', 'graph.jsonl']), /^qkv: graph\.jsonl:3: a JSON object with "nodes"/);
    // a JSON-looking sentence that is not an input object is text
    ok(run(['predict', '--model', 'tag'], '{ braces } are words\n'), 'braces');
  });
});
