/**
 * Loaders for byte-level BPE tokenizers as Hugging Face ships them:
 *   vocab.json   {"<token in stand-in chars>": id, …}
 *   merges.txt   optional "#version: …" line, then one "a b" merge per line in rank order
 *   tokenizer.json  {"model": {"type": "BPE", "vocab": {…}, "merges": ["a b", …] | [["a","b"], …]},
 *                    "added_tokens": [{"id", "content", …}], "pre_tokenizer": {"type": "ByteLevel", …}, …}
 * Every malformed input ends in one CircuitscopeError naming the file and what was wrong.
 */
import { CircuitscopeError } from '../../util/errors.js';
import { ByteLevelBpe, type BpeSpec } from './bpe.js';
import type { Tokenizer } from './types.js';

export interface BpeFilesOptions {
  /** BOS id; default: the id of "<|endoftext|>" if the vocabulary has it, else null. */
  bosTokenId?: number | null;
  /** Tokens matched whole in text; default: every vocab entry shaped like "<|…|>". */
  specialTokens?: readonly string[];
  /** Names used in error messages. */
  vocabFile?: string;
  mergesFile?: string;
}

export interface TokenizerJsonOptions {
  bosTokenId?: number | null;
  /** Name used in error messages (default "tokenizer.json"). */
  file?: string;
}

/** Byte-level BPE from the text of vocab.json and merges.txt. */
export function bpeFromFiles(vocabJson: string, mergesTxt: string, opts: BpeFilesOptions = {}): Tokenizer {
  const vocabFile = opts.vocabFile ?? 'vocab.json';
  const mergesFile = opts.mergesFile ?? 'merges.txt';
  const vocab = parseVocab(parseJson(vocabJson, vocabFile), vocabFile, 'the file');
  const merges: [string, string][] = [];
  const lines = mergesTxt.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    merges.push(splitMerge(line, `${mergesFile} line ${i + 1}`));
  });
  const specials = opts.specialTokens ?? [...vocab.keys()].filter((t) => /^<\|[^|\s]*\|>$/.test(t));
  const added = new Map<string, number>();
  for (const s of specials) {
    const id = vocab.get(s);
    if (id === undefined) throw new CircuitscopeError(`${vocabFile}: special token ${JSON.stringify(s)} is not in the vocabulary`);
    added.set(s, id);
  }
  return new ByteLevelBpe({
    vocab,
    merges,
    added,
    bosTokenId: opts.bosTokenId !== undefined ? opts.bosTokenId : (vocab.get('<|endoftext|>') ?? null),
    source: `${vocabFile} + ${mergesFile}`,
  });
}

/** Byte-level BPE from the text of a Hugging Face tokenizer.json. */
export function bpeFromTokenizerJson(json: string, opts: TokenizerJsonOptions = {}): Tokenizer {
  const file = opts.file ?? 'tokenizer.json';
  const root = parseJson(json, file);
  const fail = (what: string): never => {
    throw new CircuitscopeError(`${file}: ${what}`, 'only byte-level BPE tokenizers (GPT-2 style) are supported');
  };
  if (!isObject(root)) return fail('expected a JSON object at the top level');
  const model = root['model'];
  if (!isObject(model)) return fail('missing "model" object');
  if (model['type'] !== undefined && model['type'] !== 'BPE') return fail(`model.type is ${JSON.stringify(model['type'])}, not "BPE"`);
  if (!isObject(model['vocab'])) return fail('missing model.vocab (an object of token → id)');
  for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (typeof model[k] === 'string' && model[k] !== '') fail(`model.${k} ${JSON.stringify(model[k])} is not supported`);
  }
  const vocab = parseVocab(model['vocab'], file, 'model.vocab');
  const rawMerges = model['merges'];
  if (!Array.isArray(rawMerges)) return fail('missing model.merges (an array of "a b" strings or ["a","b"] pairs)');
  const merges = rawMerges.map((m, i): [string, string] => {
    if (typeof m === 'string') return splitMerge(m, `${file} model.merges[${i}]`);
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    return fail(`model.merges[${i}] is ${JSON.stringify(m)}, expected "a b" or ["a","b"]`);
  });

  const added = new Map<string, number>();
  const addedTokens = root['added_tokens'] ?? [];
  if (!Array.isArray(addedTokens)) return fail('added_tokens is not an array');
  addedTokens.forEach((t, i) => {
    if (!isObject(t) || typeof t['content'] !== 'string' || !Number.isInteger(t['id'])) {
      fail(`added_tokens[${i}] needs a string "content" and an integer "id"`);
    }
    added.set((t as Record<string, string>)['content']!, (t as Record<string, number>)['id']!);
  });

  const pre = byteLevelOptions(root['pre_tokenizer'], fail);
  const normalize = normalizerForm(root['normalizer'], fail);
  const spec: BpeSpec = {
    vocab,
    merges,
    added,
    bosTokenId: opts.bosTokenId !== undefined ? opts.bosTokenId : (added.get('<|endoftext|>') ?? vocab.get('<|endoftext|>') ?? null),
    addPrefixSpace: pre.addPrefixSpace,
    useRegex: pre.useRegex,
    source: file,
  };
  if (normalize) spec.normalize = normalize;
  return new ByteLevelBpe(spec);
}

/** pre_tokenizer must be ByteLevel (alone or as the only member of a Sequence). */
function byteLevelOptions(pre: unknown, fail: (what: string) => never): { addPrefixSpace: boolean; useRegex: boolean } {
  let p = pre;
  if (isObject(p) && p['type'] === 'Sequence' && Array.isArray(p['pretokenizers']) && p['pretokenizers'].length === 1) {
    p = p['pretokenizers'][0];
  }
  if (!isObject(p) || p['type'] !== 'ByteLevel') {
    const type = isObject(p) ? JSON.stringify(p['type']) : JSON.stringify(p);
    return fail(`pre_tokenizer ${type} is not supported (expected "ByteLevel")`);
  }
  return { addPrefixSpace: p['add_prefix_space'] === true, useRegex: p['use_regex'] !== false };
}

/** normalizer: null, or a Unicode normal form (GPT-NeoX ships NFC). */
function normalizerForm(n: unknown, fail: (what: string) => never): 'NFC' | 'NFD' | 'NFKC' | 'NFKD' | undefined {
  if (n === null || n === undefined) return undefined;
  const type = isObject(n) ? n['type'] : undefined;
  if (type === 'NFC' || type === 'NFD' || type === 'NFKC' || type === 'NFKD') return type;
  return fail(`normalizer ${JSON.stringify(type ?? n)} is not supported`);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CircuitscopeError(`${file}: not valid JSON (${(e as Error).message})`, 're-download the tokenizer files');
  }
}

/** {token: id} → Map, checking every id is a non-negative integer. */
function parseVocab(v: unknown, file: string, what: string): Map<string, number> {
  if (!isObject(v)) throw new CircuitscopeError(`${file}: ${what} is not an object of token → id`);
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(v)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new CircuitscopeError(`${file}: ${what} maps ${JSON.stringify(tok)} to ${JSON.stringify(id)}, not a token id`);
    }
    vocab.set(tok, id);
  }
  return vocab;
}

function splitMerge(line: string, where: string): [string, string] {
  const parts = line.split(' ');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw new CircuitscopeError(`${where}: expected a merge "a b" (two symbols, one space), got ${JSON.stringify(line)}`);
  }
  return [parts[0]!, parts[1]!];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
