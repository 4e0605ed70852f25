/**
 * The pieces of GPT-2's byte-level scheme that are independent of any vocabulary: the byte↔unicode table
 * (so that every byte has a printable, non-space stand-in character inside vocab.json and merges.txt),
 * the pre-tokenisation regex, and UTF-8 helpers.
 */

/**
 * GPT-2's pre-tokenisation: contractions, letters / digits / other symbols with at most one leading space,
 * and runs of whitespace (a run followed by a word leaves its last space to that word).
 */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** byte (0..255) → stand-in character; printable Latin-1 bytes map to themselves, the rest to U+0100 + n. */
export const BYTE_TO_CHAR: readonly string[] = buildByteTable();
/** Inverse of BYTE_TO_CHAR. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

function buildByteTable(): string[] {
  const printable = (b: number): boolean =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return table;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Bytes → text; malformed sequences become U+FFFD, like Python's bytes.decode('utf-8', errors='replace'). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Text → its bytes spelled in stand-in characters (the form vocab.json keys use). */
export function toByteChars(text: string): string {
  let out = '';
  for (const b of encoder.encode(text)) out += BYTE_TO_CHAR[b]!;
  return out;
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A regex source that matches `s` literally. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Splits `text` around whole occurrences of `specials` (longest first); specials come back tagged. */
export function splitSpecials(text: string, specials: readonly string[]): { text: string; special: boolean }[] {
  if (specials.length === 0 || text.length === 0) return text ? [{ text, special: false }] : [];
  const sorted = [...specials].sort((a, b) => b.length - a.length);
  const re = new RegExp(sorted.map(escapeRegex).join('|'), 'g');
  const out: { text: string; special: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), special: false });
    out.push({ text: m[0], special: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), special: false });
  return out;
}
