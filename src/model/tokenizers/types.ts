/** The tokenizer contract shared by the model layer, the tasks and the CLI. */

export interface Tokenizer {
  /** Which family produced it: GPT-2's r50k, byte-level BPE from files, the toy integer reader, llama2.c's, or the zoo's word-level vocabulary. */
  readonly kind: 'gpt2' | 'bpe-files' | 'integer' | 'llama2c' | 'word-level';
  /** One more than the largest token id the tokenizer can produce. */
  readonly vocabSize: number;
  /** Token prepended by prependBos (GPT-2: 50256), or null when the model has none. */
  readonly bosTokenId: number | null;
  /** Text → token ids, without BOS. */
  encode(text: string): number[];
  /** Token ids → text (invalid UTF-8 becomes U+FFFD, as Python's errors='replace'). */
  decode(ids: readonly number[]): string;
  /** The string of one token, as TransformerLens's to_str_tokens shows it (GPT-2: decoded bytes, e.g. " Mary"). */
  tokenString(id: number): string;
}

/** What the model's config says about its vocabulary; used to pick and check a tokenizer. */
export interface TokenizerHints {
  vocabSize: number;
  bosTokenId?: number | null;
  eosTokenId?: number | null;
  /** config.json's model_type ("gpt2", "llama", …) or "llama2c". */
  modelType?: string;
}
