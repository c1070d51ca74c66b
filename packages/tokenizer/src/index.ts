// @tx/tokenizer: text to token ids and back. Pure TypeScript, no tfjs.
export type { Tokenizer, TextStream, EncodeOptions, AllowedSpecial, TokenizerJSON, CharTokenizerJSON, BpeTokenizerJSON, WordTokenizerJSON, HuggingFaceTokenizerJSON, LoadOptions } from './tokenizer.js';
export { CharTokenizer, type CharTokenizerOptions } from './char.js';
export { WordTokenizer, type WordTokenizerOptions, type WordVocabularyOptions, type WordPiece } from './word.js';
export { BpeTokenizer, type FromTiktokenOptions } from './bpe.js';
export type { BpeTokenizerSpec } from './bpe-model.js';
export type { TrainOptions } from './train.js';
export type { TiktokenRanks } from './tiktoken.js';
export { loadTokenizer } from './load.js';
export { TokenizerError } from './errors.js';
export { GPT2_PATTERN, CL100K_PATTERN, CL100K_PATTERN_TIKTOKEN, WHITESPACE_PATTERN, splitText, checkSplitPattern, type PatternName, type CheckPatternOptions } from './patterns.js';
export { bytesToUnicode } from './huggingface.js';
export { HuggingFaceTokenizer, type DecodeOptions } from './huggingface/tokenizer.js';
export { LLAMA3_PATTERN, QWEN2_PATTERN } from './huggingface/regex.js';
