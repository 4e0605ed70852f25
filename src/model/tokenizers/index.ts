/**
 * Tokenizers for the model layer, and the rule that picks one for a model folder:
 *   tokenizer.json (WordLevel model: word-level.ts; else byte-level BPE) → vocab.json + merges.txt → tokenizer.bin / tok<vocab>.bin (llama2.c)
 *   → GPT-2 r50k when the config says gpt2 with 50257 tokens → integer ids.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CircuitscopeError } from '../../util/errors.js';
import { bpeFromFiles, bpeFromTokenizerJson } from './bpe-files.js';
import { GPT2_VOCAB_SIZE, gpt2Tokenizer } from './gpt2.js';
import { integerTokenizer } from './integer.js';
import { llama2cTokenizer } from './llama2c.js';
import { wordLevelFromTokenizerJson } from './word-level.js';
import type { Tokenizer, TokenizerHints } from './types.js';

export type { Tokenizer, TokenizerHints } from './types.js';
export type { BpeFilesOptions, TokenizerJsonOptions } from './bpe-files.js';
export { bpeFromFiles, bpeFromTokenizerJson } from './bpe-files.js';
export { GPT2_ENDOFTEXT, GPT2_VOCAB_SIZE, gpt2Tokenizer } from './gpt2.js';
export { integerTokenizer } from './integer.js';
export { LLAMA2C_BOS, LLAMA2C_EOS, llama2cTokenizer } from './llama2c.js';
export { type WordLevelOptions, WORD_LEVEL_BOS, WORD_LEVEL_UNK, wordLevelFromTokenizerJson, wordLevelTokenizer, wordLevelTokenizerJson } from './word-level.js';

/**
 * Picks the tokenizer for a model folder (null: a model without tokenizer files).
 * BOS: a numeric hints.bosTokenId (config.json's bos_token_id) wins; otherwise the tokenizer's own
 * (GPT-2: 50256, BPE files: "<|endoftext|>" if present, word-level: "<bos>" if present, llama2.c: 1, integer: none).
 */
export async function loadTokenizer(folder: string | null, hints: TokenizerHints): Promise<Tokenizer> {
  const { vocabSize } = hints;
  if (!Number.isInteger(vocabSize) || vocabSize < 1) {
    throw new CircuitscopeError(`tokenizer: the model's vocab size must be a positive integer, got ${vocabSize}`);
  }
  const bos = typeof hints.bosTokenId === 'number' ? hints.bosTokenId : undefined;
  let tok: Tokenizer | undefined;
  let source = 'tokenizer';
  if (folder !== null) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new CircuitscopeError(`tokenizer: model folder ${folder} does not exist`);
    }
    const file = (name: string): string | null => (existsSync(join(folder, name)) ? join(folder, name) : null);
    const tjson = file('tokenizer.json');
    const vjson = file('vocab.json');
    const merges = file('merges.txt');
    const bin = file('tokenizer.bin') ?? file(`tok${vocabSize}.bin`);
    if (tjson) {
      const text = await readFile(tjson, 'utf8');
      const opts = { file: tjson, ...(bos !== undefined && { bosTokenId: bos }) };
      const wordLevel = wordLevelRoot(text, tjson);
      tok = wordLevel !== null ? wordLevelFromTokenizerJson(wordLevel, opts) : bpeFromTokenizerJson(text, opts);
      source = tjson;
    } else if (vjson && merges) {
      const opts = { vocabFile: vjson, mergesFile: merges, ...(bos !== undefined && { bosTokenId: bos }) };
      tok = bpeFromFiles(await readFile(vjson, 'utf8'), await readFile(merges, 'utf8'), opts);
      source = vjson;
    } else if (bin) {
      tok = llama2cTokenizer(new Uint8Array(await readFile(bin)), vocabSize, bin);
      source = bin;
    }
  }
  if (!tok && hints.modelType === 'gpt2' && vocabSize === GPT2_VOCAB_SIZE) tok = await gpt2Tokenizer();
  tok ??= integerTokenizer(vocabSize, hints.bosTokenId ?? null);

  if (tok.vocabSize > vocabSize) {
    throw new CircuitscopeError(
      `${source}: the tokenizer has ${tok.vocabSize} tokens but the model's vocabulary has only ${vocabSize}`,
      'check that the tokenizer files belong to this model',
    );
  }
  return bos !== undefined ? withBos(tok, bos) : tok;
}

/**
 * The parsed tokenizer.json when its model.type is "WordLevel", else null (the BPE reader parses it).
 * Only a file that mentions "WordLevel" at all is parsed here, so a BPE file is parsed once.
 */
function wordLevelRoot(text: string, file: string): unknown {
  if (!text.includes('"WordLevel"')) return null;
  let root: unknown;
  try {
    root = JSON.parse(text) as unknown;
  } catch (e) {
    throw new CircuitscopeError(`${file}: not valid JSON (${(e as Error).message})`, 're-download the tokenizer files');
  }
  const model = typeof root === 'object' && root !== null ? (root as Record<string, unknown>)['model'] : undefined;
  return typeof model === 'object' && model !== null && (model as Record<string, unknown>)['type'] === 'WordLevel' ? root : null;
}

/** The same tokenizer with another BOS id (e.g. config.json overriding the tokenizer's guess). */
function withBos(t: Tokenizer, bosTokenId: number): Tokenizer {
  if (t.bosTokenId === bosTokenId) return t;
  if (!Number.isInteger(bosTokenId) || bosTokenId < 0 || bosTokenId >= t.vocabSize) {
    throw new CircuitscopeError(`tokenizer: bos_token_id ${bosTokenId} is out of range for vocab size ${t.vocabSize}`);
  }
  return {
    kind: t.kind,
    vocabSize: t.vocabSize,
    bosTokenId,
    encode: (text) => t.encode(text),
    decode: (ids) => t.decode(ids),
    tokenString: (id) => t.tokenString(id),
  };
}
