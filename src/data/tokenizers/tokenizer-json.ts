// Hugging Face's tokenizer.json for byte-level BPE: written as the `tokenizers` library writes
// a ByteLevel BPE tokenizer (special tokens as added_tokens, vocab and merges in the model), and
// read back with every setting qkv does not implement refused in one line naming the file and
// the kind (a WordPiece model, a normalizer, a Metaspace pre-tokenizer, ...).
import { DataError } from '../errors.js';
import { BpeModel } from './bpe.js';
import { BpeTokenizer } from './tokenizer.js';

/** The tokenizer.json object of a tokenizer (JSON.stringify it to save). */
export function toTokenizerJson(t: BpeTokenizer): Record<string, unknown> {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: t.byteLevel.addPrefixSpace, trim_offsets: true, use_regex: t.byteLevel.useRegex };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: t.specials.map((content) => ({
      id: t.special(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: byteLevel,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: t.model.ignoreMerges,
      vocab: Object.fromEntries(t.model.tokens.map((tok, i) => [tok, i])),
      merges: t.model.merges.map(([a, b]) => [a, b]),
    },
  };
}

/** The tokenizer.json text of a tokenizer. */
export function serializeTokenizerJson(t: BpeTokenizer): string {
  return `${JSON.stringify(toTokenizerJson(t), null, 2)}\n`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A tokenizer from tokenizer.json text; `file` names it in errors ("file: reason"). */
export function parseTokenizerJson(text: string, file = 'tokenizer.json'): BpeTokenizer {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, null, `not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  return tokenizerFromJson(j, file);
}

/** A tokenizer from a parsed tokenizer.json object. */
export function tokenizerFromJson(j: unknown, file = 'tokenizer.json'): BpeTokenizer {
  const bad = (detail: string): never => { throw new DataError(file, null, detail); };
  if (!isObj(j)) return bad('expected a JSON object (a Hugging Face tokenizer.json)');
  const model = j.model;
  if (!isObj(model)) return bad('has no "model" object');
  const kind = model.type ?? ('merges' in model ? 'BPE' : undefined);
  if (kind !== 'BPE') return bad(`the model kind ${JSON.stringify(kind ?? null)} is not supported (qkv reads byte-level "BPE")`);
  // a ByteLevel post-processor (GPT-2's) only trims offsets: the ids are the same
  const post = j.post_processor;
  const settings: Obj = isObj(post) && post.type === 'ByteLevel' ? { ...j, post_processor: null } : j;
  for (const [field, what] of [['normalizer', 'normalizer'], ['post_processor', 'post-processor'], ['truncation', 'truncation'], ['padding', 'padding']] as const) {
    const v = settings[field];
    if (v !== null && v !== undefined) return bad(`the ${what} ${JSON.stringify(isObj(v) ? v.type ?? field : v)} is not supported (qkv reads none)`);
  }
  const pre = j.pre_tokenizer;
  if (!isObj(pre) || pre.type !== 'ByteLevel') return bad(`the pre-tokenizer ${JSON.stringify(isObj(pre) ? pre.type ?? null : pre ?? null)} is not supported (qkv reads "ByteLevel")`);
  const dec = j.decoder;
  if (dec !== null && dec !== undefined && (!isObj(dec) || dec.type !== 'ByteLevel')) return bad(`the decoder ${JSON.stringify(isObj(dec) ? dec.type ?? null : dec)} is not supported (qkv reads "ByteLevel")`);
  for (const f of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[f] !== null && model[f] !== undefined && model[f] !== '') bad(`the BPE setting ${f} = ${JSON.stringify(model[f])} is not supported`);
  }
  if (model.byte_fallback === true) bad('the BPE setting byte_fallback = true is not supported (byte-level BPE needs none)');
  if (model.dropout !== null && model.dropout !== undefined && model.dropout !== 0) bad(`the BPE setting dropout = ${JSON.stringify(model.dropout)} is not supported`);

  if (!isObj(model.vocab)) return bad('the BPE model has no "vocab" object');
  const tokens: string[] = [];
  for (const [tok, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) bad(`vocab entry ${JSON.stringify(tok)} has the id ${JSON.stringify(id)}, not an integer >= 0`);
    if (tokens[id as number] !== undefined) bad(`vocab entries ${JSON.stringify(tokens[id as number])} and ${JSON.stringify(tok)} share the id ${id}`);
    tokens[id as number] = tok;
  }
  const added = j.added_tokens ?? [];
  if (!Array.isArray(added)) return bad('"added_tokens" is not a list');
  const specials: string[] = [];
  for (const a of added) {
    if (!isObj(a) || typeof a.content !== 'string' || !Number.isInteger(a.id)) return bad('an added token is not {"id": n, "content": "..."}');
    const at = tokens[a.id as number];
    if (at !== undefined && at !== a.content) bad(`the added token ${JSON.stringify(a.content)} has the id ${a.id} of the vocab entry ${JSON.stringify(at)}`);
    tokens[a.id as number] = a.content;
    specials.push(a.content);
  }
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === undefined) bad(`no token has the id ${i} (ids must run 0..${tokens.length - 1})`);

  if (!Array.isArray(model.merges)) return bad('the BPE model has no "merges" list');
  const merges = model.merges.map((m, i): [string, string] => {
    const pair = typeof m === 'string' ? splitMerge(m) : Array.isArray(m) && m.length === 2 && m.every((x) => typeof x === 'string') ? (m as [string, string]) : null;
    if (!pair) return bad(`merge ${i + 1} ${JSON.stringify(m)} is not "a b" or ["a", "b"]`);
    for (const p of [pair[0], pair[1], pair[0] + pair[1]]) if (!(p in (model.vocab as Obj))) bad(`merge ${i + 1} ${JSON.stringify(m)}: ${JSON.stringify(p)} is not in the vocab`);
    return pair;
  });
  return new BpeTokenizer(new BpeModel(tokens, merges, model.ignore_merges === true), specials, {
    addPrefixSpace: pre.add_prefix_space === true,
    useRegex: pre.use_regex !== false,
  });
}

/** The legacy "a b" form (a single space separates the pair). */
function splitMerge(m: string): [string, string] | null {
  const i = m.indexOf(' ');
  return i > 0 && i < m.length - 1 && m.indexOf(' ', i + 1) < 0 ? [m.slice(0, i), m.slice(i + 1)] : null;
}
