// A WordPiece tokenizer (BERT's) from Hugging Face's tokenizer.json; every setting qkv does not
// implement is refused in one line naming the file and the setting. `anyTokenizerFromJson`
// dispatches on the model kind: WordPiece here, byte-level BPE in tokenizer-json.ts.
import { DataError } from '../errors.js';
import { tokenizerFromJson } from './tokenizer-json.js';
import type { BpeTokenizer } from './tokenizer.js';
import { WordPieceTokenizer, type BertNormalizerOptions, type PostTemplate, type TemplatePiece } from './wordpiece.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A BPE or WordPiece tokenizer from a parsed tokenizer.json, by its model's kind. */
export function anyTokenizerFromJson(j: unknown, file = 'tokenizer.json'): BpeTokenizer | WordPieceTokenizer {
  if (isObj(j) && isObj(j.model) && j.model.type === 'WordPiece') return wordPieceFromJson(j, file);
  return tokenizerFromJson(j, file);
}

export function wordPieceFromJson(j: unknown, file = 'tokenizer.json'): WordPieceTokenizer {
  const bad = (detail: string): never => { throw new DataError(file, null, detail); };
  if (!isObj(j)) return bad('expected a JSON object (a Hugging Face tokenizer.json)');
  const model = j.model;
  if (!isObj(model) || model.type !== 'WordPiece') return bad('the model is not "WordPiece"');
  if (!isObj(model.vocab)) return bad('the WordPiece model has no "vocab" object');
  const vocab: string[] = [];
  for (const [tok, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) bad(`vocab entry ${JSON.stringify(tok)} has the id ${JSON.stringify(id)}, not an integer >= 0`);
    vocab[id as number] = tok;
  }
  const added: string[] = [];
  for (const a of (j.added_tokens ?? []) as unknown[]) {
    if (!isObj(a) || typeof a.content !== 'string' || !Number.isInteger(a.id)) return bad('an added token is not {"id": n, "content": "..."}');
    if (a.normalized === true) bad(`the added token ${JSON.stringify(a.content)} is "normalized": qkv matches added tokens in the raw text only`);
    vocab[a.id as number] = a.content;
    added.push(a.content);
  }
  for (let i = 0; i < vocab.length; i++) if (vocab[i] === undefined) bad(`no token has the id ${i} (ids must run 0..${vocab.length - 1})`);
  const unk = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
  if (!vocab.includes(unk)) bad(`the unknown token ${JSON.stringify(unk)} is not in the vocab`);
  const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##';
  const maxChars = Number.isInteger(model.max_input_chars_per_word) ? (model.max_input_chars_per_word as number) : 100;

  let normalizer: BertNormalizerOptions | null = null;
  const n = j.normalizer;
  if (isObj(n)) {
    if (n.type !== 'BertNormalizer') bad(`the normalizer ${JSON.stringify(n.type ?? null)} is not supported (qkv reads "BertNormalizer")`);
    normalizer = {
      cleanText: n.clean_text !== false, handleChineseChars: n.handle_chinese_chars !== false,
      stripAccents: typeof n.strip_accents === 'boolean' ? n.strip_accents : null, lowercase: n.lowercase !== false,
    };
  } else if (n !== null && n !== undefined) bad('the normalizer is not an object');
  const pre = j.pre_tokenizer;
  if (!isObj(pre) || pre.type !== 'BertPreTokenizer') bad(`the pre-tokenizer ${JSON.stringify(isObj(pre) ? pre.type ?? null : pre ?? null)} is not supported (qkv reads "BertPreTokenizer")`);
  for (const [field, what] of [['truncation', 'truncation'], ['padding', 'padding']] as const) {
    const v = j[field];
    if (v !== null && v !== undefined) bad(`the ${what} setting is not supported (qkv pads and truncates itself)`);
  }
  return new WordPieceTokenizer(vocab, unk, normalizer, postTemplate(j.post_processor, vocab, bad), added, prefix, maxChars);
}

/** TemplateProcessing or BertProcessing as one template; null for none. */
function postTemplate(p: unknown, vocab: string[], bad: (d: string) => never): PostTemplate | null {
  if (p === null || p === undefined) return null;
  if (!isObj(p)) return bad('the post-processor is not an object');
  const idOf = (tok: unknown, what: string): number => {
    if (!Array.isArray(tok) || typeof tok[0] !== 'string' || !Number.isInteger(tok[1])) return bad(`the BertProcessing ${what} is not ["token", id]`);
    return tok[1] as number;
  };
  if (p.type === 'BertProcessing') {
    const cls = idOf(p.cls, 'cls');
    const sep = idOf(p.sep, 'sep');
    const [c, s] = [vocab[cls]!, vocab[sep]!];
    return {
      single: [{ special: c, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: s, typeId: 0 }],
      pair: [{ special: c, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: s, typeId: 0 }, { sequence: 'B', typeId: 1 }, { special: s, typeId: 1 }],
      specialIds: { [c]: [cls], [s]: [sep] },
    };
  }
  if (p.type !== 'TemplateProcessing') return bad(`the post-processor ${JSON.stringify(p.type ?? null)} is not supported (qkv reads "TemplateProcessing" and "BertProcessing")`);
  const pieces = (list: unknown, which: string): TemplatePiece[] => {
    if (!Array.isArray(list)) return bad(`the template's "${which}" is not a list`);
    return list.map((x): TemplatePiece => {
      if (isObj(x) && isObj(x.SpecialToken) && typeof x.SpecialToken.id === 'string') return { special: x.SpecialToken.id, typeId: Number(x.SpecialToken.type_id ?? 0) };
      if (isObj(x) && isObj(x.Sequence) && (x.Sequence.id === 'A' || x.Sequence.id === 'B')) return { sequence: x.Sequence.id, typeId: Number(x.Sequence.type_id ?? 0) };
      return bad(`a piece of the template's "${which}" is neither a SpecialToken nor a Sequence A/B`);
    });
  };
  const specialIds: Record<string, number[]> = {};
  if (!isObj(p.special_tokens)) return bad('the template has no "special_tokens"');
  for (const [name, s] of Object.entries(p.special_tokens)) {
    if (!isObj(s) || !Array.isArray(s.ids) || !s.ids.every((i) => Number.isInteger(i) && vocab[i as number] !== undefined)) bad(`the template's special token ${JSON.stringify(name)} has no valid "ids"`);
    specialIds[name] = (s as Obj).ids as number[];
  }
  const t = { single: pieces(p.single, 'single'), pair: pieces(p.pair, 'pair'), specialIds };
  for (const piece of [...t.single, ...t.pair]) if ('special' in piece && !specialIds[piece.special]) bad(`the template names ${JSON.stringify(piece.special)}, which is not in its "special_tokens"`);
  return t;
}
