// Byte-level text, as GPT-2 and Hugging Face's ByteLevel pre-tokenizer/decoder: text is split
// into pieces by GPT-2's regex, each piece becomes its UTF-8 bytes, and each byte is shown as
// one printable character (bytes_to_unicode), so every input is spelled with 256 symbols and
// nothing is ever unknown. Decoding maps the characters back to bytes and reads them as UTF-8
// (an incomplete sequence becomes U+FFFD, as Hugging Face decodes lossily).

/** GPT-2's bytes_to_unicode: byte b -> a printable character (printable Latin-1 stay themselves, the rest go to U+0100...). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const out = new Array<string>(256);
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
})();

const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));

/**
 * GPT-2's pre-tokenizer pattern (the one Hugging Face's ByteLevel uses with use_regex): contractions,
 * letters, digits, other symbols (each with one leading space), then whitespace. `\s` is
 * written as \p{White_Space}, which is what Oniguruma's `\s` means in Hugging Face's Rust code
 * (JavaScript's `\s` differs on U+0085 and U+FEFF).
 */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

export interface ByteLevelOptions {
  /** Prepend a space when the text does not start with one (GPT-2 and qkv: false). */
  addPrefixSpace?: boolean;
  /** Split with GPT-2's pattern (default true); false keeps the whole text as one piece. */
  useRegex?: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** A string's UTF-8 bytes spelled with bytes_to_unicode characters. */
export function toByteChars(text: string): string {
  let s = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      s = '';
      for (const b of encoder.encode(text)) s += BYTE_TO_CHAR[b]!;
      return s;
    }
    s += BYTE_TO_CHAR[c]!; // ASCII: one byte, no encoder call
  }
  return s;
}

/** The pieces of `text` as they read (before the byte spelling). */
export function rawPieces(text: string, o: ByteLevelOptions = {}): string[] {
  if (o.addPrefixSpace && !text.startsWith(' ')) text = ` ${text}`;
  if (o.useRegex === false) return text ? [text] : [];
  return text.match(GPT2_PATTERN) ?? [];
}

/** The pieces of `text`, each in byte characters (what BPE sees as words). */
export function byteLevelPieces(text: string, o: ByteLevelOptions = {}): string[] {
  return rawPieces(text, o).map(toByteChars);
}

/** The text spelled by byte characters; a character outside the 256 is kept as itself. */
export function fromByteChars(chars: string): string {
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length) out += decoder.decode(new Uint8Array(bytes));
    bytes.length = 0;
  };
  for (const c of chars) {
    const b = CHAR_TO_BYTE.get(c);
    if (b === undefined) {
      flush();
      out += c;
    } else bytes.push(b);
  }
  flush();
  return out;
}
