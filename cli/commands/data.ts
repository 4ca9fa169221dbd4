// `qkv data --builtin NAME --out FILE`: a built-in set written in the file format a user's own
// data would have, so every file-based command of the README runs as printed:
//   ambiguity -> CoNLL-U (.conllu), two-column CoNLL (.conll), one sentence per line (.txt), or
//                sentence<TAB>label (.tsv, classify: the tag of its first ambiguous word, VERB or NOUN)
//   speech    -> JSONL frames ({"frames", "labels"}),  graph -> JSONL graphs ({"nodes", "edges", "labels"})
//   reverse, sort, copy -> source<TAB>target (.tsv)
//   spoken    -> a path<TAB>label list (.tsv) with the WAV files copied into LIST-wav/ beside it
//   shapes    -> a folder tree OUT/LABEL/N.png
import { Command } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { data, encodePng, writeFileAtomic } from '../../src/index.js';
import { SPOKEN_LIST } from '../datasets.js';
import { int, MAX_BUILTIN_N, UsageError, writeTextFile } from '../shared.js';

const SETS = ['ambiguity', 'speech', 'graph', 'reverse', 'sort', 'copy', 'spoken', 'shapes'] as const;
type SetName = (typeof SETS)[number];

const lines = (rows: string[]) => rows.join('\n') + '\n';

/** Each set's file formats, by the extension of --out ('/' = a folder). */
const FORMATS: Record<SetName, string[]> = {
  ambiguity: ['.conllu', '.conll', '.txt', '.tsv'], speech: ['.jsonl'], graph: ['.jsonl'], reverse: ['.tsv', '.txt'], sort: ['.tsv', '.txt'], copy: ['.tsv', '.txt'],
  spoken: ['.tsv'], shapes: ['/'],
};

export function dataCommand(): Command {
  return new Command('data')
    .description('write a built-in data set as files (CoNLL-U, JSONL, TSV, WAV list, image folder) to train on as your own data')
    .requiredOption('--builtin <name>', `the set: ${SETS.join(', ')}`)
    .requiredOption('--out <path>', 'the file to write (its extension picks the format; shapes: a folder)')
    .option('--n <count>', 'examples (spoken: its 168 committed clips)', int('--n', 1, MAX_BUILTIN_N, 'a built-in set is generated in memory'), 500)
    .option('--seed <n>', 'random seed of the generated set', int('--seed', 0), 0)
    .action((o: { builtin: string; out: string; n: number; seed: number }) => {
      const name = o.builtin as SetName;
      if (!SETS.includes(name)) throw new UsageError(`--builtin ${o.builtin}: no such set (${SETS.join(', ')})`);
      const ext = name === 'shapes' ? '/' : (/\.[^./]+$/.exec(o.out)?.[0] ?? '').toLowerCase();
      if (!FORMATS[name].includes(ext)) {
        throw new UsageError(`--out ${o.out}: ${name} is written as ${FORMATS[name].map((f) => (f === '/' ? 'a folder' : `*${f}`)).join(' or ')}`);
      }
      const count = write(name, o.out, ext, o.n, o.seed);
      console.log(`qkv data: wrote ${count} ${name} examples to ${o.out}`);
    });
}

function write(name: SetName, out: string, ext: string, n: number, seed: number): number {
  if (name === 'spoken') return writeSpoken(out);
  if (name === 'shapes') return writeShapes(out, n, seed);
  const examples = data.builtinDataset(name, { seed, n });
  if (name === 'ambiguity') {
    const tagged = examples as data.TaggedExample[];
    if (ext === '.txt') writeTextFile(out, lines(tagged.map((e) => e.tokens!.join(' '))), `--out ${out}`);
    else if (ext === '.tsv') {
      const ambiguous = new Set<string>(data.AMBIGUOUS_WORDS);
      const label = (e: data.TaggedExample) => { const i = e.tokens!.findIndex((w) => ambiguous.has(w)); return i < 0 ? 'NONE' : e.labels[i]!; };
      writeTextFile(out, lines(tagged.map((e) => `${e.tokens!.join(' ')}\t${label(e)}`)), `--out ${out}`);
    }
    else if (ext === '.conll') writeTextFile(out, tagged.map((e) => lines(e.tokens!.map((w, i) => `${w}\t${e.labels[i]}`))).join('\n'), `--out ${out}`);
    else {
      writeTextFile(out, tagged.map((e, s) => `# sent_id = ${s + 1}\n# text = ${e.tokens!.join(' ')}\n` +
        lines(e.tokens!.map((w, i) => [i + 1, w, '_', e.labels[i], '_', '_', '_', '_', '_', '_'].join('\t')))).join('\n'), `--out ${out}`);
    }
  } else if (name === 'speech') {
    writeTextFile(out, lines((examples as data.TaggedExample[]).map((e) => JSON.stringify({ frames: e.frames!.map((f) => f.map(round)), labels: e.labels }))), `--out ${out}`);
  } else if (name === 'graph') {
    writeTextFile(out, lines((examples as data.TaggedExample[]).map((e) => JSON.stringify({ nodes: e.frames!.map((f) => f.map(round)), edges: e.edges, labels: e.labels }))), `--out ${out}`);
  } else {
    const pairs = examples as data.PairExample[];
    writeTextFile(out, lines(pairs.map((p) => (ext === '.txt' ? p.source.join('') : `${p.source.join('')}\t${p.target.join('')}`))), `--out ${out}`);
  }
  return examples.length;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** The committed clips, copied beside the list so it can be moved as one folder. */
function writeSpoken(out: string): number {
  const rows = readFileSync(SPOKEN_LIST, 'utf8').split('\n').filter((l) => l.trim());
  const folder = `${basename(out).replace(/\.tsv$/i, '')}-wav`;
  mkdirSync(join(dirname(out), folder), { recursive: true });
  const list = rows.map((row) => {
    const [file, label] = row.split('\t') as [string, string];
    copyFileSync(join(dirname(SPOKEN_LIST), file), join(dirname(out), folder, basename(file)));
    return `${folder}/${basename(file)}\t${label}`;
  });
  writeTextFile(out, lines(list), `--out ${out}`);
  return list.length;
}

/** OUT/LABEL/N.png: the generated images, back from the front end's normalisation (mean 0.5, std 0.5) to pixels. */
function writeShapes(out: string, n: number, seed: number): number {
  if (existsSync(out) && !isEmptyDir(out)) throw new UsageError(`--out ${out}: already exists and is not an empty folder; shapes are written as OUT/LABEL/N.png`);
  const examples = data.builtinDataset('shapes', { seed, n }) as data.ClassifiedExample[];
  examples.forEach((e, i) => {
    const img = e.image!;
    const pixels = new Float32Array(img.height * img.width * img.channels);
    // (channels, height, width) planes -> interleaved rows
    for (let c = 0; c < img.channels; c++) {
      for (let p = 0; p < img.height * img.width; p++) pixels[p * img.channels + c] = img.data[c * img.height * img.width + p]! * 0.5 + 0.5;
    }
    mkdirSync(join(out, e.label), { recursive: true });
    const png = join(out, e.label, `${i}.png`);
    writeFileAtomic(png, [encodePng({ width: img.width, height: img.height, channels: img.channels, data: pixels })], (m) => new UsageError(`--out ${out}: ${m}`));
  });
  return examples.length;
}

function isEmptyDir(p: string): boolean {
  try {
    return readdirSync(p).length === 0;
  } catch {
    return false;
  }
}
