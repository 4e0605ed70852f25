/**
 * GPT-2's tokenizer (tiktoken's r50k_base, identical to GPT-2's vocab.json + merges.txt) from the
 * gpt-tokenizer package. Its data is a ~0.5 MB module, so it is imported on first use only: programs that
 * never tokenize text (toy integer models, tensor work) never load it.
 */
import { CircuitscopeError } from '../../util/errors.js';
import { concatBytes, fromUtf8, splitSpecials, utf8 } from './byte-level.js';
import type { Tokenizer } from './types.js';

export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_ENDOFTEXT = 50256;
const ENDOFTEXT = '<|endoftext|>';

let loading: Promise<Tokenizer> | undefined;

/** The shared GPT-2 tokenizer (BOS = <|endoftext|> = 50256); the first call loads gpt-tokenizer's data. */
export async function gpt2Tokenizer(): Promise<Tokenizer> {
  loading ??= load().catch((e: unknown) => {
    loading = undefined; // let a later call retry
    throw e;
  });
  return loading;
}

async function load(): Promise<Tokenizer> {
  let enc: typeof import('gpt-tokenizer/encoding/r50k_base');
  let ranks: typeof import('gpt-tokenizer/bpeRanks/r50k_base');
  try {
    [enc, ranks] = await Promise.all([import('gpt-tokenizer/encoding/r50k_base'), import('gpt-tokenizer/bpeRanks/r50k_base')]);
  } catch (e) {
    throw new CircuitscopeError(`cannot load the GPT-2 tokenizer (gpt-tokenizer): ${(e as Error).message}`, 'run npm ci');
  }
  // rank → token bytes; the rank table holds UTF-8 text when the bytes are valid UTF-8, else a byte array.
  const bytes: Uint8Array[] = ranks.default.map((t) => (typeof t === 'string' ? utf8(t) : Uint8Array.from(t)));
  bytes[GPT2_ENDOFTEXT] = utf8(ENDOFTEXT);
  if (bytes.length !== GPT2_VOCAB_SIZE) {
    throw new CircuitscopeError(`gpt-tokenizer's r50k_base has ${bytes.length} tokens, expected ${GPT2_VOCAB_SIZE}`, 'reinstall gpt-tokenizer@4');
  }
  const bytesOf = (id: number): Uint8Array => {
    const b = Number.isInteger(id) ? bytes[id] : undefined;
    if (!b) throw new CircuitscopeError(`token id ${id} is not in GPT-2's vocabulary (size ${GPT2_VOCAB_SIZE})`);
    return b;
  };
  return {
    kind: 'gpt2',
    vocabSize: GPT2_VOCAB_SIZE,
    bosTokenId: GPT2_ENDOFTEXT,
    // "<|endoftext|>" in text is the special token, as with Hugging Face's GPT-2 tokenizer. We split it out
    // ourselves: gpt-tokenizer 4.0.0's allowedSpecial only finds a special token at the start of the text
    // or right after another one ("a<|endoftext|>" comes out as plain characters).
    encode(text: string): number[] {
      const ids: number[] = [];
      for (const seg of splitSpecials(text, [ENDOFTEXT])) {
        if (seg.special) ids.push(GPT2_ENDOFTEXT);
        else for (const id of enc.encode(seg.text)) ids.push(id);
      }
      return ids;
    },
    // Decoded from the raw bytes so a split multi-byte character shows as U+FFFD, as in Python.
    decode: (ids: readonly number[]): string => fromUtf8(concatBytes(ids.map(bytesOf))),
    tokenString: (id: number): string => fromUtf8(bytesOf(id)),
  };
}
