// @tx/tokenizer: text to token ids and back. Pure TypeScript, no tfjs.
export type { Tokenizer, Decoder, EncodeOptions, AllowedSpecial, TokenizerJSON, CharTokenizerJSON, BpeTokenizerJSON } from './tokenizer.js';
export { CharTokenizer, type CharTokenizerOptions } from './char.js';
export { BpeTokenizer, type BpeTokenizerSpec, type FromTiktokenOptions } from './bpe.js';
export type { TrainOptions } from './train.js';
export type { TiktokenRanks } from './tiktoken.js';
export { loadTokenizer } from './load.js';
export { TokenizerError } from './errors.js';
export { GPT2_PATTERN, CL100K_PATTERN, CL100K_PATTERN_TIKTOKEN, splitText, type PatternName } from './patterns.js';
export { bytesToUnicode } from './huggingface.js';
