// readTextFile: text of a file, and one-line DataErrors naming the path.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, readClassifyTsv } from '../../src/data/index.js';
import { readTextFile } from '../../src/data/files.js';

describe('readTextFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-data-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads UTF-8 text that the readers take', () => {
    const path = join(dir, 'sst.tsv');
    writeFileSync(path, 'très bien\tpos\r\n');
    assert.deepEqual(readClassifyTsv(readTextFile(path), path), [{ tokens: ['très', 'bien'], label: 'pos', origin: { file: path, line: 1 } }]);
  });

  test('missing, directory, empty, not UTF-8', () => {
    const cases: [string, string][] = [
      [join(dir, 'nope.tsv'), 'file not found'],
      [dir, 'is a directory'],
    ];
    writeFileSync(join(dir, 'empty.tsv'), '');
    writeFileSync(join(dir, 'blank.tsv'), ' \n\r\n');
    writeFileSync(join(dir, 'latin1.tsv'), Buffer.from([0x74, 0xe8, 0x73, 0x09, 0x61, 0x0a]));
    cases.push([join(dir, 'empty.tsv'), 'file is empty'], [join(dir, 'blank.tsv'), 'file is empty'], [join(dir, 'latin1.tsv'), 'not valid UTF-8']);
    for (const [path, detail] of cases) {
      assert.throws(() => readTextFile(path), (e: unknown) => {
        assert.ok(e instanceof DataError);
        assert.equal(e.message, `${path}: ${detail}`);
        assert.equal(e.line, null);
        return true;
      });
    }
  });
});
