/**
 * Byte-level BPE (GPT-2 style), vocabulary-agnostic: text is split around added/special tokens, each
 * remaining segment is cut by GPT-2's regex into words, a word's UTF-8 bytes are spelled in stand-in
 * characters, and adjacent symbols are merged lowest-rank-first until no known merge applies.
 * The loaders for vocab.json + merges.txt and tokenizer.json live in bpe-files.ts.
 */
import { CircuitscopeError } from '../../util/errors.js';
import { CHAR_TO_BYTE, GPT2_SPLIT, concatBytes, fromUtf8, splitSpecials, toByteChars, utf8 } from './byte-level.js';
import type { Tokenizer } from './types.js';

export interface BpeSpec {
  /** Token string in stand-in characters (e.g. "ĠMary") → id. */
  vocab: ReadonlyMap<string, number>;
  /** Merge rules in rank order (rank 0 merges first); each pair is two stand-in-character symbols. */
  merges: readonly (readonly [string, string])[];
  /** Added / special tokens: literal text (e.g. "<|endoftext|>") → id, matched whole before any splitting. */
  added: ReadonlyMap<string, number>;
  bosTokenId: number | null;
  /** HF ByteLevel add_prefix_space: prepend " " to each segment that does not start with one. */
  addPrefixSpace?: boolean;
  /** HF ByteLevel use_regex: false treats each segment as one word. */
  useRegex?: boolean;
  /** Unicode normalisation applied to text before splitting (tokenizer.json "normalizer"). */
  normalize?: 'NFC' | 'NFD' | 'NFKC' | 'NFKD';
  /** File name(s) for error messages. */
  source: string;
}

/** Words seen more often than this many distinct ones reset the cache, bounding memory on long corpora. */
const CACHE_LIMIT = 100_000;

export class ByteLevelBpe implements Tokenizer {
  readonly kind = 'bpe-files' as const;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;

  private readonly vocab: ReadonlyMap<string, number>;
  /** "a b" → rank; stand-in characters never include a space, so the key is unambiguous. */
  private readonly ranks = new Map<string, number>();
  private readonly added: ReadonlyMap<string, number>;
  private readonly addedList: string[];
  /** id → token string (stand-in characters), or the literal text of an added token. */
  private readonly pieces: (string | undefined)[];
  private readonly addedIds = new Set<number>();
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly spec: BpeSpec) {
    this.vocab = spec.vocab;
    this.added = spec.added;
    this.addedList = [...spec.added.keys()];
    this.bosTokenId = spec.bosTokenId;
    spec.merges.forEach(([a, b], rank) => {
      const key = a + ' ' + b;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    let maxId = -1;
    for (const id of spec.vocab.values()) maxId = Math.max(maxId, id);
    for (const id of spec.added.values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.pieces = new Array<string | undefined>(this.vocabSize);
    for (const [tok, id] of spec.vocab) this.pieces[id] = tok;
    for (const [text, id] of spec.added) {
      this.pieces[id] = text;
      this.addedIds.add(id);
    }
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const seg of splitSpecials(text, this.addedList)) {
      if (seg.special) {
        ids.push(this.added.get(seg.text)!);
        continue;
      }
      let s = this.spec.normalize ? seg.text.normalize(this.spec.normalize) : seg.text;
      if (this.spec.addPrefixSpace && !s.startsWith(' ')) s = ' ' + s;
      if (this.spec.useRegex === false) {
        for (const id of this.word(s)) ids.push(id);
        continue;
      }
      for (const m of s.matchAll(GPT2_SPLIT)) for (const id of this.word(m[0])) ids.push(id);
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    return fromUtf8(concatBytes(ids.map((id) => this.bytesOf(id))));
  }

  tokenString(id: number): string {
    return fromUtf8(this.bytesOf(id));
  }

  /** The bytes token `id` stands for: stand-in characters mapped back, added tokens as their UTF-8 text. */
  private bytesOf(id: number): Uint8Array {
    const piece = Number.isInteger(id) ? this.pieces[id] : undefined;
    if (piece === undefined) {
      throw new CircuitscopeError(`token id ${id} is not in the vocabulary of ${this.spec.source} (size ${this.vocabSize})`);
    }
    if (this.addedIds.has(id)) return utf8(piece);
    const out: number[] = [];
    for (const ch of piece) {
      const b = CHAR_TO_BYTE.get(ch);
      if (b !== undefined) out.push(b);
      else for (const x of utf8(ch)) out.push(x); // not a stand-in character: take it literally
    }
    return Uint8Array.from(out);
  }

  /** One pre-tokenised word → ids, through the cache. */
  private word(w: string): number[] {
    const hit = this.cache.get(w);
    if (hit) return hit;
    const ids = this.bpe(toByteChars(w)).map((sym) => {
      const id = this.vocab.get(sym);
      if (id === undefined) {
        const hex = [...sym].map((c) => (CHAR_TO_BYTE.get(c) ?? 0).toString(16).padStart(2, '0')).join(' ');
        throw new CircuitscopeError(
          `${this.spec.source}: no token for the bytes [${hex}] of ${JSON.stringify(w)}`,
          'the vocabulary must contain every single byte; is this a byte-level (GPT-2 style) BPE tokenizer?',
        );
      }
      return id;
    });
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(w, ids);
    return ids;
  }

  /** GPT-2's merge loop: repeatedly merge every occurrence of the lowest-ranked adjacent pair. */
  private bpe(chars: string): string[] {
    let parts = [...chars];
    while (parts.length > 1) {
      let best = Infinity;
      let bestIdx = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.ranks.get(parts[i]! + ' ' + parts[i + 1]!);
        if (r !== undefined && r < best) {
          best = r;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) break;
      const a = parts[bestIdx]!;
      const b = parts[bestIdx + 1]!;
      const next: string[] = [];
      for (let i = 0; i < parts.length; ) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          next.push(a + b);
          i += 2;
        } else next.push(parts[i++]!);
      }
      parts = next;
    }
    return parts;
  }
}
