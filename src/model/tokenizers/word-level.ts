/**
 * The word-level tokenizer of the model zoo's toy models: a fixed list of words, token id = index.
 * Text is split on runs of whitespace and every word must be in the vocabulary (a word outside it is
 * one clear error, unless the vocabulary has "<unk>", which then stands in for it); decoding joins
 * the words with single spaces. On disk it is a Hugging Face tokenizer.json with a WordLevel model
 * and a WhitespaceSplit pre-tokenizer, so 🤗 tokenizers reads the same file to the same ids:
 *
 *   {"version": "1.0", "added_tokens": [{"id": 0, "content": "<bos>", "special": true, …}],
 *    "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null, "decoder": null,
 *    "model": {"type": "WordLevel", "vocab": {"<bos>": 0, "when": 1, …}, "unk_token": "<unk>"}}
 */
import { CircuitscopeError } from '../../util/errors.js';
import type { Tokenizer } from './types.js';

/** The BOS word of the zoo's vocabularies (id 0 there). */
export const WORD_LEVEL_BOS = '<bos>';
/** The word unknown words map to when the vocabulary has it (HF's WordLevel unk_token). */
export const WORD_LEVEL_UNK = '<unk>';

export interface WordLevelOptions {
  /** BOS id; default: the id of "<bos>" if the vocabulary has it, else null. */
  bosTokenId?: number | null;
  /** Name used in error messages (default "word-level tokenizer"). */
  file?: string;
}

/** A word-level tokenizer over `vocab` (token id = index). Duplicate, empty or spaced words are an error. */
export function wordLevelTokenizer(vocab: readonly string[], opts: WordLevelOptions = {}): Tokenizer {
  const file = opts.file ?? 'word-level tokenizer';
  const ids = vocabIds(vocab, file);
  const words = Object.freeze([...vocab]);
  const n = words.length;
  const bos = opts.bosTokenId !== undefined ? opts.bosTokenId : (ids.get(WORD_LEVEL_BOS) ?? null);
  if (bos !== null && !(Number.isInteger(bos) && bos >= 0 && bos < n)) {
    throw new CircuitscopeError(`${file}: BOS id ${bos} is outside the vocabulary of ${n} words`);
  }
  const unk = ids.get(WORD_LEVEL_UNK) ?? null;
  const checkId = (id: number): string => {
    if (!(Number.isInteger(id) && id >= 0 && id < n)) {
      throw new CircuitscopeError(`${file}: token id ${id} is outside the vocabulary of ${n} words (ids 0..${n - 1})`);
    }
    return words[id]!;
  };
  return {
    kind: 'word-level',
    vocabSize: n,
    bosTokenId: bos,
    encode(text: string): number[] {
      const out: number[] = [];
      for (const w of text.split(/\s+/)) {
        if (w === '') continue;
        const id = ids.get(w) ?? unk;
        if (id === null) throw unknownWord(w, text, words, file);
        out.push(id);
      }
      return out;
    },
    decode: (tokenIds: readonly number[]): string => tokenIds.map(checkId).join(' '),
    tokenString: checkId,
  };
}

const VOCAB_MARK = '\u0000vocab\u0000';

/** The text of a Hugging Face tokenizer.json for `vocab` (id = index); `bos` (default "<bos>", null: none) is an added special token. */
export function wordLevelTokenizerJson(vocab: readonly string[], opts: { bos?: string | null } = {}): string {
  const ids = vocabIds(vocab, 'word-level tokenizer.json');
  const bos = opts.bos === undefined ? WORD_LEVEL_BOS : opts.bos;
  const added: Record<string, unknown>[] = [];
  if (bos !== null) {
    const id = ids.get(bos);
    if (id === undefined) {
      throw new CircuitscopeError(`word-level tokenizer.json: the BOS word ${JSON.stringify(bos)} is not in the vocabulary`, `put it in the vocabulary (the zoo puts "${WORD_LEVEL_BOS}" at id 0) or pass bos: null`);
    }
    added.push({ id, content: bos, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: VOCAB_MARK, unk_token: WORD_LEVEL_UNK },
  };
  // The vocabulary is written by hand in id order: a JS object would move integer-like words ("10"…"99") first.
  const vocabText = `{\n${[...ids].map(([w, id]) => `      ${JSON.stringify(w)}: ${id}`).join(',\n')}\n    }`;
  return `${JSON.stringify(json, null, 2).replace(JSON.stringify(VOCAB_MARK), vocabText)}\n`;
}

/**
 * A word-level tokenizer from a parsed tokenizer.json whose model.type is "WordLevel". The vocabulary
 * must map words to the dense ids 0..n−1 (each once); added tokens must be vocabulary words with
 * their vocabulary ids; the pre-tokenizer must be WhitespaceSplit and there must be no normalizer.
 */
export function wordLevelFromTokenizerJson(root: unknown, opts: WordLevelOptions = {}): Tokenizer {
  const file = opts.file ?? 'tokenizer.json';
  const fail = (what: string): never => {
    throw new CircuitscopeError(`${file}: ${what}`, 'a word-level tokenizer.json needs model.vocab {word: id} with ids 0..n-1 and a WhitespaceSplit pre-tokenizer (as the zoo writes it)');
  };
  if (!isObject(root)) return fail('expected a JSON object at the top level');
  const model = root['model'];
  if (!isObject(model) || model['type'] !== 'WordLevel') return fail('model.type is not "WordLevel"');
  const v = model['vocab'];
  if (!isObject(v)) return fail('missing model.vocab (an object of word → id)');
  const entries = Object.entries(v);
  const words: string[] = new Array<string>(entries.length);
  for (const [word, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length) {
      fail(`model.vocab maps ${JSON.stringify(word)} to ${JSON.stringify(id)}, but the ${entries.length} ids must be the integers 0..${entries.length - 1}`);
    }
    const n = id as number;
    if (words[n] !== undefined) fail(`model.vocab gives id ${n} to both ${JSON.stringify(words[n])} and ${JSON.stringify(word)}`);
    words[n] = word;
  }
  const missing = words.findIndex((w) => w === undefined);
  if (missing >= 0 || words.length === 0) fail(missing >= 0 ? `model.vocab has no word with id ${missing}` : 'model.vocab is empty');

  const pre = root['pre_tokenizer'];
  const single = isObject(pre) && pre['type'] === 'Sequence' && Array.isArray(pre['pretokenizers']) && pre['pretokenizers'].length === 1 ? pre['pretokenizers'][0] : pre;
  if (!isObject(single) || single['type'] !== 'WhitespaceSplit') {
    fail(`pre_tokenizer ${JSON.stringify(isObject(single) ? single['type'] : single)} is not supported (expected "WhitespaceSplit")`);
  }
  if (root['normalizer'] !== null && root['normalizer'] !== undefined) fail('a normalizer is not supported with a word-level model (expected null)');
  const added = root['added_tokens'] ?? [];
  if (!Array.isArray(added)) return fail('added_tokens is not an array');
  added.forEach((t: unknown, i) => {
    if (!isObject(t) || typeof t['content'] !== 'string' || !Number.isInteger(t['id'])) fail(`added_tokens[${i}] needs a string "content" and an integer "id"`);
    const { content, id } = t as { content: string; id: number };
    if (words[id] !== content) fail(`added_tokens[${i}] ${JSON.stringify(content)} has id ${id}, but model.vocab gives that id to ${JSON.stringify(words[id])}`);
  });
  return wordLevelTokenizer(words, { file, ...(opts.bosTokenId !== undefined && { bosTokenId: opts.bosTokenId }) });
}

/** word → index, rejecting an empty vocabulary and duplicate, empty or whitespace-containing words. */
function vocabIds(vocab: readonly string[], file: string): Map<string, number> {
  if (vocab.length === 0) throw new CircuitscopeError(`${file}: the vocabulary is empty`);
  const ids = new Map<string, number>();
  vocab.forEach((w, i) => {
    if (typeof w !== 'string' || w === '' || /\s/.test(w)) {
      throw new CircuitscopeError(`${file}: word ${i} is ${JSON.stringify(w)}; a word-level vocabulary needs non-empty words without whitespace`);
    }
    const prev = ids.get(w);
    if (prev !== undefined) throw new CircuitscopeError(`${file}: the word ${JSON.stringify(w)} appears twice (ids ${prev} and ${i})`, 'list each word once');
    ids.set(w, i);
  });
  return ids;
}

function unknownWord(word: string, text: string, words: readonly string[], file: string): CircuitscopeError {
  const shown = text.length > 80 ? `${text.slice(0, 77)}…` : text;
  const known = words.slice(0, 8).map((w) => JSON.stringify(w)).join(', ');
  return new CircuitscopeError(
    `the word ${JSON.stringify(word)} in ${JSON.stringify(shown)} is not in the vocabulary of ${file} (${words.length} words: ${known}${words.length > 8 ? ', …' : ''})`,
    'a word-level tokenizer only knows its vocabulary\'s words, separated by spaces',
  );
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
