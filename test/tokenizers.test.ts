/** Tokenizers: GPT-2 parity of the byte-level BPE loaders, the toy integer reader, llama2.c, and loadTokenizer. */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode as refEncode, decode as refDecode } from 'gpt-tokenizer/encoding/r50k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bpeFromFiles, bpeFromTokenizerJson, gpt2Tokenizer, integerTokenizer, llama2cTokenizer, loadTokenizer, type Tokenizer,
} from '../src/model/tokenizers/index.js';
import { CircuitscopeError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { gpt2FilesFromRanks, type Gpt2Files } from './fixtures/tokenizers/gpt2-from-ranks.js';
import { REPO, SHARED } from './shared.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cs-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** gpt-tokenizer's ids, with <|endoftext|> split out by hand (its allowedSpecial misses it mid-text). */
function refIds(text: string): number[] {
  return text.split('<|endoftext|>').flatMap((seg, i) => (i > 0 ? [50256, ...refEncode(seg)] : refEncode(seg)));
}

const CORPUS = [
  'When Mary and John went to the store, John gave a drink to Mary',
  ' Mary', 'Mary', 'The war lasted from the year 1742 to the year 17', '3.14159 and 1,000,000 and 2024-01-01',
  'def f(x):\n    if x:\n        return x  # two spaces\n\treturn None\n',
  'multiple   spaces    here', 'trailing spaces   ', '   leading', '\n\nnew\r\nlines\n',
  "I'm sure you'll see they've said it's 'quoted' and DON'T", 'naïve café — “smart quotes” … ½ ×',
  'Ελληνικά, русский, 中文字符, 日本語のテキスト, 한국어', 'emoji 😀👍🏽 flags 🇫🇷 zwj 👨‍👩‍👧', '\u00a0nbsp\u2003em space',
  'a<|endoftext|>b', '<|endoftext|>The end.<|endoftext|>', '', ' ', 'x',
];

describe('byte-level BPE from vocab.json + merges.txt: parity with GPT-2 (r50k_base)', () => {
  let files: Gpt2Files;
  let tok: Tokenizer;
  beforeAll(async () => {
    files = await gpt2FilesFromRanks(); // built in memory from gpt-tokenizer's rank table, no fixture
    tok = bpeFromFiles(files.vocabJson, files.mergesTxt);
  });

  it('rebuilt 50000 merges and a 50257-token vocabulary with <|endoftext|> as BOS', () => {
    expect(files.merges.length).toBe(50000);
    expect(files.merges[0]).toEqual(['Ġ', 't']);
    expect(tok.vocabSize).toBe(50257);
    expect(tok.bosTokenId).toBe(50256);
    expect(tok.kind).toBe('bpe-files');
  });

  it('encodes a varied corpus to exactly the ids of gpt-tokenizer, and decodes back', () => {
    for (const text of CORPUS) {
      const ref = refIds(text);
      expect(tok.encode(text), JSON.stringify(text)).toEqual(ref);
      expect(tok.decode(ref)).toBe(text);
    }
    expect(tok.encode(' Mary')).toEqual([5335]);
    expect(tok.tokenString(5335)).toBe(' Mary');
    expect(tok.encode('a<|endoftext|>b')).toEqual([64, 50256, 65]);
  });

  it('matches gpt-tokenizer on text made of 3000 random GPT-2 tokens', () => {
    const rng = new Rng(7);
    const ids = Array.from({ length: 3000 }, () => rng.int(50256));
    const text = refDecode(ids);
    expect(tok.encode(text)).toEqual(refEncode(text));
  });

  it('tokenizer.json with "a b" merges and with ["a","b"] pairs gives the same ids', () => {
    const base = {
      added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    };
    const vocab = { ...files.vocab };
    delete vocab['<|endoftext|>']; // only in added_tokens, as some files do
    const asStrings = bpeFromTokenizerJson(JSON.stringify({ ...base, model: { type: 'BPE', vocab, merges: files.merges.map((m) => m.join(' ')) } }));
    const asPairs = bpeFromTokenizerJson(JSON.stringify({ ...base, model: { type: 'BPE', vocab, merges: files.merges } }));
    for (const t of [asStrings, asPairs]) {
      expect(t.vocabSize).toBe(50257);
      expect(t.bosTokenId).toBe(50256);
      for (const text of CORPUS) expect(t.encode(text)).toEqual(tok.encode(text));
    }
  });
});

describe('byte-level BPE on a hand-made vocabulary', () => {
  // All 256 byte tokens (ids 0..255 in stand-in order), then merges: "Ġ t" → 256, "h e" → 257, "Ġt he" → 258.
  // GPT-2's byte table written out again here, so the test does not lean on src/.
  const chars: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars.push(String.fromCharCode(printable ? b : 256 + n++));
  }
  const vocab: Record<string, number> = {};
  chars.forEach((c, i) => (vocab[c] = i));
  Object.assign(vocab, { 'Ġt': 256, he: 257, 'Ġthe': 258, '<|endoftext|>': 259 });
  const merges = '#version: 0.2\r\nĠ t\r\nh e\r\nĠt he\r\n';

  it('applies merges by rank, handles CRLF and #version, and matches special tokens whole', () => {
    const t = bpeFromFiles(JSON.stringify(vocab), merges);
    // " the" → Ġthe; " he" → Ġ he ("Ġ h" is no merge, "h e" is); " t" → Ġt; "<|endoftext|>" is one token
    expect(t.encode(' the he t<|endoftext|>')).toEqual([258, 32, 257, 256, 259]);
    expect(t.decode([258, 259])).toBe(' the<|endoftext|>');
    expect(t.tokenString(258)).toBe(' the');
    expect(t.vocabSize).toBe(260);
  });

  it('a byte missing from the vocabulary is a clear error', () => {
    const v = { ...vocab };
    delete v['Ã']; // byte 0xC3, the first byte of "é"
    const t = bpeFromFiles(JSON.stringify(v), merges, { vocabFile: 'my/vocab.json', mergesFile: 'my/merges.txt' });
    expect(() => t.encode('café')).toThrow(/my\/vocab\.json \+ my\/merges\.txt: no token for the bytes \[c3\] of "café"/);
    expect(() => t.decode([9999])).toThrow(/token id 9999 is not in the vocabulary/);
  });

  it('add_prefix_space in tokenizer.json prepends a space to each segment', () => {
    const t = bpeFromTokenizerJson(JSON.stringify({
      model: { type: 'BPE', vocab, merges: ['Ġ t', 'h e', 'Ġt he'] },
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true },
    }));
    expect(t.encode('the')).toEqual([258]);
  });
});

describe('corrupt tokenizer files give one CircuitscopeError naming the file', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['bad vocab JSON', () => bpeFromFiles('{"a": 1', '', { vocabFile: '/m/vocab.json' }), /^\/m\/vocab\.json: not valid JSON/],
    ['vocab not an object', () => bpeFromFiles('[1,2]', ''), /^vocab\.json: the file is not an object/],
    ['vocab id not an integer', () => bpeFromFiles('{"a": "x"}', ''), /vocab\.json: the file maps "a" to "x", not a token id/],
    ['bad merge line', () => bpeFromFiles('{"a": 0}', 'a b c\n', { mergesFile: 'm.txt' }), /^m\.txt line 1: expected a merge "a b"/],
    ['bad tokenizer.json', () => bpeFromTokenizerJson('{model', { file: '/m/tokenizer.json' }), /^\/m\/tokenizer\.json: not valid JSON/],
    ['missing model.vocab', () => bpeFromTokenizerJson('{"model": {"type": "BPE", "merges": []}}'), /^tokenizer\.json: missing model\.vocab/],
    ['not BPE', () => bpeFromTokenizerJson('{"model": {"type": "Unigram", "vocab": []}}'), /model\.type is "Unigram", not "BPE"/],
    ['Metaspace', () => bpeFromTokenizerJson('{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Metaspace"}}'), /pre_tokenizer "Metaspace" is not supported/],
    ['bad merge entry', () => bpeFromTokenizerJson('{"model": {"type": "BPE", "vocab": {}, "merges": [3]}}'), /model\.merges\[0\] is 3/],
  ];
  for (const [name, fn, re] of cases) {
    it(name, () => {
      expect(fn).toThrow(CircuitscopeError);
      expect(fn).toThrow(re);
    });
  }
});

describe('gpt2Tokenizer (gpt-tokenizer r50k, loaded lazily)', () => {
  it('encodes like GPT-2, treats <|endoftext|> as the special token, and shows token strings', async () => {
    const t = await gpt2Tokenizer();
    expect(await gpt2Tokenizer()).toBe(t);
    expect([t.kind, t.vocabSize, t.bosTokenId]).toEqual(['gpt2', 50257, 50256]);
    const ids = t.encode('When Mary and John went to the store, John gave a drink to');
    expect(ids.slice(0, 3)).toEqual([2215, 5335, 290]);
    expect(ids.map((i) => t.tokenString(i)).join('')).toBe('When Mary and John went to the store, John gave a drink to');
    expect(t.encode('<|endoftext|>hi')).toEqual([50256, 5303]);
    expect(t.encode('hi<|endoftext|> hi<|endoftext|>')).toEqual([5303, 50256, 23105, 50256]);
    expect(t.tokenString(50256)).toBe('<|endoftext|>');
    const emoji = t.encode('😀'); // 4 bytes over several tokens; one token alone is not valid UTF-8
    expect(t.decode(emoji)).toBe('😀');
    expect(t.tokenString(emoji[0]!)).toContain('\ufffd');
    expect(() => t.tokenString(50257)).toThrow(CircuitscopeError);
  });

  it('no module in src/model/tokenizers imports gpt-tokenizer statically', () => {
    const dir = path.join(REPO, 'src/model/tokenizers');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      expect(readFileSync(path.join(dir, f), 'utf8'), f).not.toMatch(/^import\s[^(]*from\s+'gpt-tokenizer/m);
    }
  });
});

describe('integerTokenizer', () => {
  it('reads "0 1 2", "0,1,2", "0, 1, 2" and "012" for a vocabulary of 3', () => {
    const t = integerTokenizer(3);
    for (const s of ['0 1 2', '0,1,2', '0, 1, 2', '012', ' 0  1\n2 ']) expect(t.encode(s), s).toEqual([0, 1, 2]);
    expect(t.encode('')).toEqual([]);
    expect(t.decode([2, 0, 1])).toBe('2 0 1');
    expect(t.tokenString(2)).toBe('2');
    expect([t.kind, t.vocabSize, t.bosTokenId]).toEqual(['integer', 3, null]);
  });

  it('reads multi-digit ids for a vocabulary of 256, and rejects out-of-range ids clearly', () => {
    const t = integerTokenizer(256, 0);
    expect(t.encode('12 255, 0')).toEqual([12, 255, 0]);
    expect(t.encode('012')).toEqual([12]); // one id: runs of digits split only when vocab ≤ 10
    expect(() => t.encode('1 256')).toThrow(CircuitscopeError);
    expect(() => t.encode('1 256')).toThrow(/token id 256 .* out of range for vocab size 256 — write ids 0\.\.255 separated by spaces or commas/);
    expect(() => integerTokenizer(3).encode('013')).toThrow(/token id 3 .* vocab size 3 — write .*"012"/);
    expect(() => t.encode('1 two')).toThrow(/cannot read "two"/);
    expect(() => t.encode('-1')).toThrow(/token id -1/);
  });
});

describe('llama2cTokenizer (stories260K tok512.bin)', () => {
  const bin = new Uint8Array(readFileSync(path.join(SHARED, 'models/stories260K/tok512.bin')));
  const t = llama2cTokenizer(bin, 512);

  it('round-trips text and strips the dummy-prefix space after BOS', () => {
    for (const s of ['Once upon a time', 'Lily saw a big dog.', 'héllo 😀 ~|~']) expect(t.decode(t.encode(s))).toBe(s);
    expect(t.decode([1, ...t.encode('Once upon a time')])).toBe('\n<s>\nOnce upon a time');
    expect([t.kind, t.vocabSize, t.bosTokenId]).toEqual(['llama2c', 512, 1]);
  });

  it('gives the hand-checked ids of a short sentence', () => {
    // " Lily"=317 " saw"=394 " a"=261 " big"=370 " do"=400 "g"=428 "."=426 (no " dog" piece in 512 tokens)
    const ids = t.encode('Lily saw a big dog.');
    expect(ids).toEqual([317, 394, 261, 370, 400, 428, 426]);
    expect(ids.map((i) => t.tokenString(i)).join('')).toBe(' Lily saw a big dog.');
    expect(t.encode('Once upon a time')).toEqual([403, 407, 261, 378]);
  });

  it('falls back to byte tokens <0xNN> = 3 + byte for characters without a piece', () => {
    const ids = t.encode('😀'); // F0 9F 98 80
    expect(ids.slice(-4)).toEqual([0xf0 + 3, 0x9f + 3, 0x98 + 3, 0x80 + 3]);
    expect(t.tokenString(1)).toBe('<s>');
    expect(() => llama2cTokenizer(bin.subarray(0, 100), 512, 'tok512.bin')).toThrow(/^tok512\.bin: truncated/);
  });
});

describe('loadTokenizer', () => {
  it('with no folder: GPT-2 for gpt2/50257, else integer ids', async () => {
    const g = await loadTokenizer(null, { vocabSize: 50257, modelType: 'gpt2', bosTokenId: 50256 });
    expect([g.kind, g.bosTokenId]).toEqual(['gpt2', 50256]);
    const i = await loadTokenizer(null, { vocabSize: 3, modelType: 'gpt2', bosTokenId: null });
    expect([i.kind, i.vocabSize, i.bosTokenId]).toEqual(['integer', 3, null]);
  });

  it('the shared toy models get integer tokenizers, stories260K its llama2.c tokenizer', async () => {
    const nano = await loadTokenizer(path.join(SHARED, 'models/gpt-nano-sort'), { vocabSize: 3, modelType: 'gpt2', bosTokenId: null });
    expect(nano.encode('0, 1, 2')).toEqual([0, 1, 2]);
    const tiny = await loadTokenizer(path.join(SHARED, 'models/tiny-gpt2-random'), { vocabSize: 256, modelType: 'gpt2', bosTokenId: 0 });
    expect([tiny.kind, tiny.bosTokenId]).toEqual(['integer', 0]);
    const stories = await loadTokenizer(path.join(SHARED, 'models/stories260K'), { vocabSize: 512, modelType: 'llama2c' });
    expect([stories.kind, stories.bosTokenId]).toEqual(['llama2c', 1]);
  });

  it('prefers tokenizer.json, then vocab.json + merges.txt; config bos_token_id overrides', async () => {
    const vocab = { a: 0, b: 1, 'Ġ': 2, ab: 3, '<|endoftext|>': 4 };
    const dir = path.join(tmp, 'bpe');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
    writeFileSync(path.join(dir, 'merges.txt'), 'a b\n');
    const files = await loadTokenizer(dir, { vocabSize: 5 });
    expect([files.kind, files.bosTokenId, files.encode('ab a')]).toEqual(['bpe-files', 4, [3, 2, 0]]);
    expect((await loadTokenizer(dir, { vocabSize: 8, bosTokenId: 0 })).bosTokenId).toBe(0);
    await expect(loadTokenizer(dir, { vocabSize: 4 })).rejects.toThrow(/has 5 tokens but the model's vocabulary has only 4/);

    writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": {"type": "BPE"}}');
    await expect(loadTokenizer(dir, { vocabSize: 5 })).rejects.toThrow(/bpe[/\\]tokenizer\.json: missing model\.vocab/);
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges: [] }, pre_tokenizer: { type: 'ByteLevel' } }));
    expect((await loadTokenizer(dir, { vocabSize: 5 })).encode('ab')).toEqual([0, 1]);
    await expect(loadTokenizer(path.join(tmp, 'nope'), { vocabSize: 5 })).rejects.toThrow(/does not exist/);
  });
});
