/**
 * Parsing and validating a safetensors header. Every problem becomes one CircuitscopeError that names
 * the file (and the tensor, where there is one) and says what to do.
 */
import { CircuitscopeError } from '../util/errors.js';
import { DTYPE_SIZES, KNOWN_DTYPES, isDtype, type Dtype } from './safetensors-dtypes.js';

/** Largest header we accept; real ones are a few hundred kB at most. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface HeaderEntry {
  dtype: Dtype;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface ParsedHeader {
  entries: Map<string, HeaderEntry>;
  metadata: Record<string, string> | undefined;
}

const REDOWNLOAD = 'the file is truncated or damaged (re-download it)';

/**
 * Checks the 8-byte prefix: returns the header length. `prefix` is the file's first min(8, size) bytes.
 */
export function checkPrefix(label: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) {
    throw new CircuitscopeError(
      `${label}: file is only ${fileSize} bytes, too short to be a safetensors file (it must start with an 8-byte header length)`,
      REDOWNLOAD,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n === 0n || n > BigInt(MAX_HEADER_BYTES)) {
    const head = new TextDecoder().decode(prefix.subarray(0, 8));
    if (head.startsWith('version ')) {
      throw new CircuitscopeError(
        `${label}: this is a Git LFS pointer, not the safetensors file itself`,
        'fetch the real file (git lfs pull, or download it directly)',
      );
    }
    throw new CircuitscopeError(
      `${label}: header length is ${n} bytes (must be between 1 and ${MAX_HEADER_BYTES}), so this is not a safetensors file or it is corrupted`,
      'check that this is a .safetensors file and re-download it',
    );
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    throw new CircuitscopeError(
      `${label}: header says it is ${len} bytes but the file has only ${fileSize - 8} bytes after the length prefix — ${REDOWNLOAD}`,
    );
  }
  return len;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses and validates the header JSON against a data section of `dataBytes` bytes. */
export function parseHeader(label: string, json: Uint8Array, dataBytes: number): ParsedHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    const why = e instanceof SyntaxError ? e.message : 'not valid UTF-8';
    throw new CircuitscopeError(`${label}: header is not valid JSON (${why})`, REDOWNLOAD);
  }
  if (!isPlainObject(parsed)) {
    throw new CircuitscopeError(`${label}: header must be a JSON object of tensors, got ${JSON.stringify(parsed)?.slice(0, 40)}`, REDOWNLOAD);
  }

  let metadata: Record<string, string> | undefined;
  const entries = new Map<string, HeaderEntry>();
  for (const [name, raw] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      metadata = checkMetadata(label, raw);
      continue;
    }
    entries.set(name, checkEntry(label, name, raw, dataBytes));
  }
  checkOverlaps(label, entries);
  return { entries, metadata };
}

export function checkMetadata(label: string, raw: unknown, hint = REDOWNLOAD): Record<string, string> {
  if (!isPlainObject(raw)) {
    throw new CircuitscopeError(`${label}: "__metadata__" must be an object of string values`, hint);
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw new CircuitscopeError(
        `${label}: "__metadata__" value for "${k}" must be a string, got ${JSON.stringify(v)?.slice(0, 40)}`,
        'metadata values in safetensors are always strings (JSON-encode anything else)',
      );
    }
  }
  return { ...(raw as Record<string, string>) };
}

function checkEntry(label: string, name: string, raw: unknown, dataBytes: number): HeaderEntry {
  const where = `${label}: tensor "${name}"`;
  const bad = (what: string) => new CircuitscopeError(`${where} ${what}`, REDOWNLOAD);
  if (!isPlainObject(raw)) throw bad('is not an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = raw;
  if (dtype === undefined) throw bad('has no "dtype"');
  if (shape === undefined) throw bad('has no "shape"');
  if (offsets === undefined) throw bad('has no "data_offsets"');
  if (!isDtype(dtype)) {
    throw new CircuitscopeError(
      `${where} has unsupported dtype ${JSON.stringify(dtype)} (known: ${KNOWN_DTYPES.join(', ')})`,
      'convert the tensor to one of these dtypes',
    );
  }
  if (!Array.isArray(shape)) throw bad(`has shape ${JSON.stringify(shape)}, expected an array of dimensions`);
  if (!shape.every(isNonNegInt)) {
    throw bad(`has shape ${JSON.stringify(shape)}: dimensions must be non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt)) {
    throw bad(`has data_offsets ${JSON.stringify(offsets)}, expected [begin, end] with non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw bad(`has data_offsets [${begin}, ${end}] with end before begin`);
  const elems = shape.reduce((a: number, d: number) => a * d, 1);
  const need = elems * DTYPE_SIZES[dtype];
  if (!Number.isSafeInteger(need) || end - begin !== need) {
    throw bad(
      `is ${dtype} of shape [${shape.join(', ')}] = ${need} bytes, but data_offsets [${begin}, ${end}) hold ${end - begin} bytes`,
    );
  }
  if (end > dataBytes) {
    throw new CircuitscopeError(
      `${where} needs ${need} bytes at [${begin}, ${end}) but the data section has only ${dataBytes} bytes — ` +
        'the file is truncated, probably an incomplete download (re-download it)',
    );
  }
  return { dtype, shape: shape as number[], begin, end };
}

function checkOverlaps(label: string, entries: Map<string, HeaderEntry>): void {
  const spans = [...entries].filter(([, e]) => e.end > e.begin).sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < spans.length; i++) {
    const [prevName, prev] = spans[i - 1]!;
    const [name, cur] = spans[i]!;
    if (cur.begin < prev.end) {
      throw new CircuitscopeError(
        `${label}: tensors "${prevName}" [${prev.begin}, ${prev.end}) and "${name}" [${cur.begin}, ${cur.end}) overlap in the data section`,
        REDOWNLOAD,
      );
    }
  }
}
