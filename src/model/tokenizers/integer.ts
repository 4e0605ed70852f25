/**
 * The tokenizer of toy models whose "text" is a list of token ids (gpt-nano-sort: vocab 3; tiny-gpt2-random:
 * vocab 256). Prompts are written as ids: "0 1 2", "0,1,2", "0, 1, 2", or "012" when the vocabulary has at
 * most 10 ids (so every id is one digit and the run cannot be misread).
 */
import { CircuitscopeError } from '../../util/errors.js';
import type { Tokenizer } from './types.js';

export function integerTokenizer(vocabSize: number, bosTokenId: number | null = null): Tokenizer {
  if (!Number.isInteger(vocabSize) || vocabSize < 1) {
    throw new CircuitscopeError(`integer tokenizer: vocab size must be a positive integer, got ${vocabSize}`);
  }
  const form = vocabSize <= 10
    ? `ids 0..${vocabSize - 1} separated by spaces or commas ("0 1 2"), or as one run of digits ("012")`
    : `ids 0..${vocabSize - 1} separated by spaces or commas ("0 1 2")`;
  const checkId = (id: number, text: string): number => {
    if (id < 0 || id >= vocabSize) {
      throw new CircuitscopeError(`token id ${id} in ${JSON.stringify(text)} is out of range for vocab size ${vocabSize}`, `write ${form}`);
    }
    return id;
  };
  return {
    kind: 'integer',
    vocabSize,
    bosTokenId,
    encode(text: string): number[] {
      const t = text.trim();
      if (t === '') return [];
      // A single run of digits is one id per digit only when every id is one digit.
      if (/^\d+$/.test(t) && vocabSize <= 10) return [...t].map((d) => checkId(Number(d), text));
      return t.split(/[\s,]+/).filter((s) => s !== '').map((s) => {
        if (!/^-?\d+$/.test(s)) {
          throw new CircuitscopeError(`cannot read ${JSON.stringify(s)} in ${JSON.stringify(text)} as a token id (vocab size ${vocabSize})`, `write ${form}`);
        }
        return checkId(Number(s), text);
      });
    },
    decode: (ids: readonly number[]): string => ids.join(' '),
    tokenString: (id: number): string => String(id),
  };
}
