/**
 * GPT-2's tokenizer (tiktoken's r50k_base, identical to GPT-2's vocab.json + merges.txt) from the
 * gpt-tokenizer package. Its data is loaded on the first encode/decode only: programs that never tokenize
 * text (toy integer models, tensor work, loading GPT-2 to feed it token ids) never pay for it.
 */
import { createRequire } from 'node:module';
import { CircuitscopeError } from '../../util/errors.js';
import { concatBytes, fromUtf8, splitSpecials, utf8 } from './byte-level.js';
import type { Tokenizer } from './types.js';

export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_ENDOFTEXT = 50256;
const ENDOFTEXT = '<|endoftext|>';

type Encoding = typeof import('gpt-tokenizer/encoding/r50k_base');
type Ranks = typeof import('gpt-tokenizer/bpeRanks/r50k_base');
const requireCjs = createRequire(import.meta.url);

interface Gpt2Data {
  enc: Encoding;
  /** rank → token bytes */
  bytes: Uint8Array[];
}
let data: Gpt2Data | undefined;

/**
 * gpt-tokenizer's data (~25 MB once parsed), loaded synchronously (its CommonJS build) the first time a
 * method of the tokenizer runs, so that loading a model that is only ever fed token ids never pays for it.
 */
function gpt2Data(): Gpt2Data {
  if (data) return data;
  let enc: Encoding;
  let ranks: Ranks;
  try {
    enc = requireCjs('gpt-tokenizer/cjs/encoding/r50k_base') as Encoding;
    ranks = requireCjs('gpt-tokenizer/cjs/bpeRanks/r50k_base') as Ranks;
  } catch (e) {
    throw new CircuitscopeError(`cannot load the GPT-2 tokenizer (gpt-tokenizer): ${(e as Error).message}`, 'run npm ci');
  }
  // rank → token bytes; the rank table holds UTF-8 text when the bytes are valid UTF-8, else a byte array.
  const bytes: Uint8Array[] = ranks.default.map((t) => (typeof t === 'string' ? utf8(t) : Uint8Array.from(t)));
  bytes[GPT2_ENDOFTEXT] = utf8(ENDOFTEXT);
  if (bytes.length !== GPT2_VOCAB_SIZE) {
    throw new CircuitscopeError(`gpt-tokenizer's r50k_base has ${bytes.length} tokens, expected ${GPT2_VOCAB_SIZE}`, 'reinstall gpt-tokenizer@4');
  }
  return (data = { enc, bytes });
}

/** The shared GPT-2 tokenizer (BOS = <|endoftext|> = 50256); its data loads on first use. */
export async function gpt2Tokenizer(): Promise<Tokenizer> {
  return GPT2;
}

const bytesOf = (id: number): Uint8Array => {
  const b = Number.isInteger(id) ? gpt2Data().bytes[id] : undefined;
  if (!b) throw new CircuitscopeError(`token id ${id} is not in GPT-2's vocabulary (size ${GPT2_VOCAB_SIZE})`);
  return b;
};

const GPT2: Tokenizer = {
  kind: 'gpt2',
  vocabSize: GPT2_VOCAB_SIZE,
  bosTokenId: GPT2_ENDOFTEXT,
  // "<|endoftext|>" in text is the special token, as with Hugging Face's GPT-2 tokenizer. We split it out
  // ourselves: gpt-tokenizer 4.0.0's allowedSpecial only finds a special token at the start of the text
  // or right after another one ("a<|endoftext|>" comes out as plain characters).
  encode(text: string): number[] {
    const { enc } = gpt2Data();
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
