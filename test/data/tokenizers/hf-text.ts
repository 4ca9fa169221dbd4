// A fixed, varied text for tokenizer tests: words with accents, CJK, emoji, digits,
// contractions, punctuation runs, tabs, runs of spaces and blank lines, in a seeded order.
import { Generator } from '../../../src/index.js';

const WORDS = [
  'the', 'cat', 'sat', 'on', 'mat', 'theatre', 'there', 'then', 'hello', 'héllo', 'naïve', 'café',
  "don't", "it's", "we're", "they've", "I'm", "you'll", "she'd", 'Straße', 'über', 'ελληνικά', 'русский',
  '日本語', '東京', '한국어', '🙂', '👍🏽', '🇯🇵', 'e\u0301', '2026', '3.14', '42', '...', '!!', '--', '(x)',
  'x²', '½', 'tab\there', 'ab', 'aaaa', 'abab', 'mississippi', 'lower', 'lowest', 'newer', 'wider',
];
const GAPS = [' ', ' ', ' ', ' ', '  ', '\n', ' \n', '\t', '\n\n', '   '];

export function variedText(words = 3000, seed = 7): string {
  const g = new Generator(seed);
  let s = '';
  for (let i = 0; i < words; i++) s += WORDS[g.int(0, WORDS.length)]! + GAPS[g.int(0, GAPS.length)]!;
  return s;
}

/** A text's lines with their newlines kept (how Hugging Face's trainer reads a file). */
export function linesWithNewlines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Texts to encode: edge cases plus some of the training text's vocabulary in new orders. */
export const PROBES = [
  '', ' ', '  ', '\n', 'the cat sat on the mat', ' the theatre', "don't stop: it's 3.14!", 'héllo wörld ñ',
  '日本語のテキスト', '🙂🙂 👍🏽 🇯🇵', 'e\u0301 é', 'tab\there\t\tx', 'a\r\nb', 'mississippi mississippi',
  '   leading and trailing   ', 'x\u0085y\ufeffz\u00a0w', '\u0000\u0001\u007f', 'unseen: ŧĥïś ⅋ ∑ ℵ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
];
