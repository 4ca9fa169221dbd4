// Subword tokenizers: byte-level BPE (train, encode, decode) and Hugging Face's tokenizer.json.
export { BYTE_TO_CHAR, byteLevelPieces, rawPieces, toByteChars, fromByteChars, type ByteLevelOptions } from './bytelevel.js';
export { BpeModel, trainBpe, type BpeTrainOptions } from './bpe.js';
export { BpeTokenizer, type BpeTokenizerTrainOptions } from './tokenizer.js';
export { toTokenizerJson, serializeTokenizerJson, parseTokenizerJson, tokenizerFromJson } from './tokenizer-json.js';
export { WordPieceTokenizer, bertNormalize, bertPreTokenize, type BertNormalizerOptions, type Encoding, type PostTemplate, type TemplatePiece } from './wordpiece.js';
export { anyTokenizerFromJson, wordPieceFromJson } from './wordpiece-json.js';
