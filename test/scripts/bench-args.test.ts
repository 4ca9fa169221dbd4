// bench/main.mjs's flags: the help names each, a bad value is one line on stderr and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../../bench/main.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 60_000 });

test('--help names --train-rows and its rows', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--train-rows busy,taggers,tasks,e2e/);
});

test('an unknown train row, section or flag is one line and exit 1, before anything is timed', () => {
  for (const [args, want] of [[['--train-rows', 'busy,nope'], /--train-rows: unknown row nope; rows: busy, taggers, tasks, e2e/],
    [['--only', 'trian'], /--only: unknown section trian/], [['--fast'], /unknown flag --fast/]] as const) {
    const r = run(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: exit ${r.status}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  }
});
