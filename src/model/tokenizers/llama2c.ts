/**
 * llama2.c's tokenizer (e.g. stories260K's tok512.bin), encoding and decoding exactly as llama2.c's run.c does.
 *
 * File layout (little-endian):
 *   int32 max_token_length
 *   vocabSize × { float32 score, int32 length, length bytes }
 * Ids 0/1/2 are <unk>, BOS ("\n<s>\n"), EOS ("\n</s>\n"); ids 3..258 are the byte-fallback tokens "<0x00>".."<0xFF>".
 */
import { CircuitscopeError } from '../../util/errors.js';
import { concatBytes, fromUtf8, utf8 } from './byte-level.js';
import type { Tokenizer } from './types.js';

export const LLAMA2C_BOS = 1;
export const LLAMA2C_EOS = 2;
/** Byte b is token BYTE_OFFSET + b when no piece spells its character. */
const BYTE_OFFSET = 3;
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

export function llama2cTokenizer(tokBin: Uint8Array, vocabSize: number, file = 'tokenizer.bin'): Tokenizer {
  const { pieces, scores } = parse(tokBin, vocabSize, file);
  // Pieces as "binary strings" (one char per byte) so that concatenation and lookup work on raw bytes.
  const bin = pieces.map(latin1);
  const lookup = new Map<string, number>();
  bin.forEach((s, id) => {
    if (!lookup.has(s)) lookup.set(s, id);
  });
  // The byte a token stands for when decoded: "<0xNN>" → NN, else the piece itself.
  const decoded = pieces.map((p, id) => {
    const m = BYTE_TOKEN.exec(bin[id]!);
    return m ? Uint8Array.of(parseInt(m[1]!, 16)) : p;
  });
  const check = (id: number): void => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new CircuitscopeError(`token id ${id} is not in the vocabulary of ${file} (size ${vocabSize})`);
    }
  };

  return {
    kind: 'llama2c',
    vocabSize,
    bosTokenId: LLAMA2C_BOS,
    encode(text: string): number[] {
      if (text === '') return [];
      const tokens: number[] = [];
      // SentencePiece's "dummy prefix": the text is treated as if it started with a space.
      const space = lookup.get(' ');
      if (space !== undefined) tokens.push(space);
      for (const ch of text) {
        const bytes = utf8(ch);
        const id = lookup.get(latin1(bytes));
        if (id !== undefined) tokens.push(id);
        else for (const b of bytes) tokens.push(b + BYTE_OFFSET); // byte fallback
      }
      // Greedy merging: the adjacent pair whose concatenation is a piece with the highest score wins
      // (ties: the leftmost). Byte tokens spell "<0xNN>", so they never merge, as in llama2.c.
      for (;;) {
        let bestScore = -Infinity;
        let bestId = -1;
        let bestIdx = -1;
        for (let i = 0; i + 1 < tokens.length; i++) {
          const id = lookup.get(bin[tokens[i]!]! + bin[tokens[i + 1]!]!);
          if (id !== undefined && scores[id]! > bestScore) {
            bestScore = scores[id]!;
            bestId = id;
            bestIdx = i;
          }
        }
        if (bestIdx < 0) break;
        tokens.splice(bestIdx, 2, bestId);
      }
      return tokens;
    },
    decode(ids: readonly number[]): string {
      const parts = ids.map((id, k) => {
        check(id);
        let p = decoded[id]!;
        // llama2.c drops the dummy-prefix space of the first piece after BOS; we also drop it at the very
        // start, so that decode(encode(text)) === text without a BOS.
        if ((k === 0 || ids[k - 1] === LLAMA2C_BOS) && p[0] === 0x20 && !BYTE_TOKEN.test(bin[id]!)) p = p.subarray(1);
        return p;
      });
      return fromUtf8(concatBytes(parts));
    },
    tokenString(id: number): string {
      check(id);
      // <unk>/<s>/</s> are stored wrapped in newlines ("\n<s>\n"); tables show them bare.
      return id < BYTE_OFFSET ? fromUtf8(decoded[id]!).trim() : fromUtf8(decoded[id]!);
    },
  };
}

function parse(buf: Uint8Array, vocabSize: number, file: string): { pieces: Uint8Array[]; scores: Float32Array } {
  const fail = (what: string): never => {
    throw new CircuitscopeError(`${file}: ${what}`, 'expected a llama2.c tokenizer (.bin) for this model; re-download it');
  };
  if (!Number.isInteger(vocabSize) || vocabSize < BYTE_OFFSET + 256) fail(`vocab size ${vocabSize} is too small for a llama2.c tokenizer (needs ≥ 259)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 4) fail(`file is ${buf.byteLength} bytes, too short for a header`);
  const maxLen = view.getInt32(0, true);
  if (maxLen <= 0) fail(`max_token_length is ${maxLen}`);
  const pieces: Uint8Array[] = [];
  const scores = new Float32Array(vocabSize);
  let off = 4;
  for (let i = 0; i < vocabSize; i++) {
    if (off + 8 > buf.byteLength) fail(`truncated: token ${i} of ${vocabSize} starts past the end (${buf.byteLength} bytes)`);
    scores[i] = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    off += 8;
    if (len < 0 || len > maxLen || off + len > buf.byteLength) fail(`token ${i} has length ${len} (max ${maxLen}, ${buf.byteLength - off} bytes left)`);
    pieces.push(buf.slice(off, off + len));
    off += len;
  }
  return { pieces, scores };
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
