/** The zoo's word-level tokenizer: encode/decode, unknown words, the HF tokenizer.json writer and loadTokenizer's WordLevel reader. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer, wordLevelFromTokenizerJson, wordLevelTokenizer, wordLevelTokenizerJson } from '../src/model/tokenizers/index.js';
import { CircuitscopeError } from '../src/util/errors.js';
import { errorOf } from './helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cs-wordlevel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const VOCAB = ['<bos>', 'when', 'mary', 'and', 'john', 'went', 'to', 'the', 'store', ',', 'gave', 'a', 'drink', '00', '99'];

/** Writes `files` into a fresh folder under tmp and returns it. */
function folder(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  return dir;
}


describe('wordLevelTokenizer', () => {
  const tok = wordLevelTokenizer(VOCAB);

  it('maps words to their index, splitting on any run of whitespace, and decodes with single spaces', () => {
    expect(tok.kind).toBe('word-level');
    expect(tok.vocabSize).toBe(15);
    expect(tok.bosTokenId).toBe(0);
    const text = 'when mary and john went to the store , john gave a drink to';
    const ids = tok.encode(text);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 10, 11, 12, 6]);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.encode('  mary\n\tand   john \n')).toEqual([2, 3, 4]);
    expect(tok.encode('<bos> 00 99')).toEqual([0, 13, 14]);
    expect(tok.encode('')).toEqual([]);
    expect(tok.encode(' \n ')).toEqual([]);
    expect(tok.tokenString(8)).toBe('store');
    expect(VOCAB.map((_, i) => tok.tokenString(i))).toEqual(VOCAB);
  });

  it('an unknown word is one clear error naming the word and some known words; with "<unk>" it maps there', () => {
    const e = errorOf(() => tok.encode('mary and bob'));
    expect(e.message).toContain('"bob"');
    expect(e.message).toContain('"when"');
    expect(e.message).toContain('15 words');
    const withUnk = wordLevelTokenizer(['<bos>', '<unk>', 'mary']);
    expect(withUnk.encode('mary bob <bos>')).toEqual([2, 1, 0]);
  });

  it('out-of-range ids, duplicate words, spaced words and a bad BOS id are clear errors', () => {
    expect(errorOf(() => tok.decode([1, 15])).message).toMatch(/token id 15 is outside the vocabulary of 15 words/);
    expect(errorOf(() => tok.tokenString(-1)).message).toMatch(/token id -1/);
    expect(errorOf(() => tok.tokenString(1.5)).message).toMatch(/token id 1.5/);
    expect(errorOf(() => wordLevelTokenizer(['a', 'b', 'a'])).message).toMatch(/"a" appears twice \(ids 0 and 2\)/);
    expect(errorOf(() => wordLevelTokenizer(['a', 'b c'])).message).toMatch(/word 1 is "b c"/);
    expect(errorOf(() => wordLevelTokenizer([])).message).toMatch(/empty/);
    expect(errorOf(() => wordLevelTokenizer(['a'], { bosTokenId: 3 })).message).toMatch(/BOS id 3/);
    expect(wordLevelTokenizer(['a', 'b']).bosTokenId).toBeNull();
    expect(wordLevelTokenizer(VOCAB, { bosTokenId: null }).bosTokenId).toBeNull();
  });
});

describe('tokenizer.json (HF WordLevel) writer and reader', () => {
  it('writes the HF fields: WordLevel model with vocab in id order, WhitespaceSplit, <bos> as an added special token', () => {
    const text = wordLevelTokenizerJson(VOCAB);
    const json = JSON.parse(text) as Record<string, unknown>;
    // in the text, the vocabulary is in id order (a JS object would put "99" first)
    const vocabText = text.slice(text.indexOf('"vocab"'));
    expect([...vocabText.matchAll(/"((?:[^"\\]|\\.)*)": (\d+)/g)].map((m) => [m[1], Number(m[2])])).toEqual(VOCAB.map((w, i) => [w, i]));
    expect(Object.keys(json)).toEqual(['version', 'truncation', 'padding', 'added_tokens', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder', 'model']);
    expect(json['version']).toBe('1.0');
    expect(json['pre_tokenizer']).toEqual({ type: 'WhitespaceSplit' });
    expect(json['added_tokens']).toEqual([{ id: 0, content: '<bos>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }]);
    const model = json['model'] as { type: string; vocab: Record<string, number>; unk_token: string };
    expect(model.type).toBe('WordLevel');
    expect(model.unk_token).toBe('<unk>');
    expect(model.vocab).toEqual(Object.fromEntries(VOCAB.map((w, i) => [w, i])));
    expect(errorOf(() => wordLevelTokenizerJson(['a', 'a'])).message).toMatch(/appears twice/);
    expect(errorOf(() => wordLevelTokenizerJson(['a', 'b'])).message).toMatch(/BOS word "<bos>" is not in the vocabulary/);
    expect((JSON.parse(wordLevelTokenizerJson(['a', 'b'], { bos: null })) as { added_tokens: unknown[] }).added_tokens).toEqual([]);
  });

  it('loadTokenizer reads the written file to the same ids; config bos_token_id wins over "<bos>"', async () => {
    const dir = folder('ok', { 'tokenizer.json': wordLevelTokenizerJson(VOCAB) });
    const mem = wordLevelTokenizer(VOCAB);
    const tok = await loadTokenizer(dir, { vocabSize: 16 });
    expect(tok.kind).toBe('word-level');
    expect(tok.vocabSize).toBe(15);
    expect(tok.bosTokenId).toBe(0);
    const text = 'when john and mary went to the store , mary gave a drink to 99';
    expect(tok.encode(text)).toEqual(mem.encode(text));
    expect(tok.decode(tok.encode(text))).toBe(text);
    const hinted = await loadTokenizer(dir, { vocabSize: 15, bosTokenId: 9 });
    expect(hinted.bosTokenId).toBe(9);
    expect(hinted.encode('mary')).toEqual([2]);
    await expect(loadTokenizer(dir, { vocabSize: 10 })).rejects.toThrow(/15 tokens but the model's vocabulary has only 10/);
  });

  it('bad WordLevel files give one clear error naming the file', async () => {
    const base = JSON.parse(wordLevelTokenizerJson(['<bos>', 'a', 'b'])) as { model: { vocab: Record<string, number> }; pre_tokenizer: unknown; added_tokens: unknown[] };
    const variant = (edit: (j: typeof base) => void): string => {
      const j = structuredClone(base);
      edit(j);
      return JSON.stringify(j);
    };
    const cases: [string, string, RegExp][] = [
      ['gap', variant((j) => { j.model.vocab = { '<bos>': 0, a: 1, b: 3 }; }), /maps "b" to 3, but the 3 ids must be the integers 0\.\.2/],
      ['shared-id', variant((j) => { j.model.vocab = { '<bos>': 0, a: 1, b: 1 }; }), /gives id 1 to both "a" and "b"/],
      ['negative', variant((j) => { j.model.vocab = { '<bos>': 0, a: -1, b: 2 }; }), /maps "a" to -1/],
      ['not-int', variant((j) => { j.model.vocab = { '<bos>': 0, a: '1' as unknown as number, b: 2 }; }), /maps "a" to "1"/],
      ['pre', variant((j) => { j.pre_tokenizer = { type: 'Whitespace' }; }), /pre_tokenizer "Whitespace" is not supported/],
      ['added', variant((j) => { j.added_tokens = [{ id: 1, content: '<bos>' }]; }), /added_tokens\[0\] "<bos>" has id 1, but model.vocab gives that id to "a"/],
    ];
    for (const [name, text, re] of cases) {
      const dir = folder(name, { 'tokenizer.json': text });
      const err = await loadTokenizer(dir, { vocabSize: 3 }).then(() => null, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(CircuitscopeError);
      expect((err as Error).message, name).toMatch(re);
      expect((err as Error).message, name).toContain(path.join(dir, 'tokenizer.json'));
    }
    expect(() => wordLevelFromTokenizerJson({ model: { type: 'WordLevel', vocab: {} } })).toThrow(/empty/);
    // A word listed twice: JSON.parse keeps the last id, which leaves the ids non-dense.
    const dup = folder('dup', { 'tokenizer.json': '{"pre_tokenizer": {"type": "WhitespaceSplit"}, "model": {"type": "WordLevel", "vocab": {"<bos>": 0, "a": 1, "a": 2}}}' });
    await expect(loadTokenizer(dup, { vocabSize: 3 })).rejects.toThrow(/maps "a" to 2, but the 2 ids must be the integers 0\.\.1/);
    const bad = folder('broken', { 'tokenizer.json': '{"model": {"type": "WordLevel", ' });
    await expect(loadTokenizer(bad, { vocabSize: 3 })).rejects.toThrow(/not valid JSON/);
  });
});
