/** Greedy decoding (argmax of the last position's logits), stopping at EOS, a token budget or the context length. */
import * as T from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import type { ModelConfig } from './config.js';

export interface GenerateOptions {
  /** Tokens to add (default 16). */
  maxNewTokens?: number;
  /** Stop after the model emits its EOS token (default true). */
  stopAtEos?: boolean;
  /** For text prompts: prepend BOS (default true). */
  prependBos?: boolean;
}

export interface GenerateResult {
  /** Prompt followed by the generated tokens. */
  tokens: number[];
  newTokens: number[];
  /** Why generation ended. */
  stop: 'eos' | 'length' | 'context';
  /** The generated text, when the model has a tokenizer. */
  text?: string;
}

export function generateGreedy(logitsOf: (tokens: number[]) => Tensor, prompt: readonly number[], cfg: ModelConfig, opts: GenerateOptions): GenerateResult {
  const max = opts.maxNewTokens ?? 16;
  const stopAtEos = opts.stopAtEos ?? true;
  const tokens = [...prompt];
  const newTokens: number[] = [];
  let stop: GenerateResult['stop'] = 'length';
  while (newTokens.length < max) {
    if (tokens.length >= cfg.nCtx) {
      stop = 'context';
      break;
    }
    const logits = logitsOf(tokens); // [1, pos, d_vocab]
    const last = T.slice(logits, 1, -1).reshape(cfg.dVocab); // [d_vocab]
    const next = T.argmax(last).data[0]!;
    tokens.push(next);
    newTokens.push(next);
    if (stopAtEos && cfg.eosTokenId !== null && next === cfg.eosTokenId) {
      stop = 'eos';
      break;
    }
  }
  return { tokens, newTokens, stop };
}
