/**
 * Safetensors dtypes: byte sizes, the typed array each one reads into, and the float16 / bfloat16
 * conversions (scalar, exported for tests and callers, plus bounded-chunk bulk versions for the reader
 * and writer), and integer-tensor helpers. Everything here is pure; no I/O.
 */
import { CircuitscopeError } from '../util/errors.js';

/** Dtypes we read and write. F16/BF16 are held in memory as Float32Array. */
export const DTYPE_SIZES = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1,
} as const;

export type Dtype = keyof typeof DTYPE_SIZES;
export type FloatDtype = 'F64' | 'F32' | 'F16' | 'BF16';

export const KNOWN_DTYPES = Object.keys(DTYPE_SIZES) as Dtype[];

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.hasOwn(DTYPE_SIZES, s);
}

export function isFloatDtype(d: Dtype): d is FloatDtype {
  return d === 'F64' || d === 'F32' || d === 'F16' || d === 'BF16';
}

/** A tensor as read: the dtype stored in the file, its shape, and the data (F16/BF16 widened to F32). */
export type LoadedTensor =
  | { dtype: 'F32' | 'F16' | 'BF16'; shape: number[]; data: Float32Array }
  | { dtype: 'F64'; shape: number[]; data: Float64Array }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'U64'; shape: number[]; data: BigUint64Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array }
  | { dtype: 'U32'; shape: number[]; data: Uint32Array }
  | { dtype: 'I16'; shape: number[]; data: Int16Array }
  | { dtype: 'U16'; shape: number[]; data: Uint16Array }
  | { dtype: 'I8'; shape: number[]; data: Int8Array }
  | { dtype: 'U8' | 'BOOL'; shape: number[]; data: Uint8Array };

export type TensorData = LoadedTensor['data'];

/** Typed array that holds a stored (non-F16/BF16) dtype's bytes verbatim, over a fresh buffer. */
export function allocRaw(dtype: Exclude<Dtype, 'F16' | 'BF16'>, buf: ArrayBuffer): TensorData {
  switch (dtype) {
    case 'F64': return new Float64Array(buf);
    case 'F32': return new Float32Array(buf);
    case 'I64': return new BigInt64Array(buf);
    case 'U64': return new BigUint64Array(buf);
    case 'I32': return new Int32Array(buf);
    case 'U32': return new Uint32Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'U16': return new Uint16Array(buf);
    case 'I8': return new Int8Array(buf);
    case 'U8': case 'BOOL': return new Uint8Array(buf);
  }
}

/** The dtype a typed array is written as when none is given. */
export function inferDtype(data: unknown): Dtype | undefined {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof BigUint64Array) return 'U64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint8Array) return 'U8';
  return undefined;
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- scalar conversions -------------------------------------------------------------------------

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** float32 bit pattern → float16 bit pattern, round to nearest even; overflow → ±inf, NaN → quiet NaN. */
function f16FromBits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  const e = exp - 127 + 15; // float16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // float16 subnormal (units of 2^-24) or zero; below 2^-25 everything rounds to zero.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1))) h++; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // a carry into the exponent is right, up to inf
  return h;
}

/** float32 bit pattern → bfloat16 bit pattern, round to nearest even; NaN stays a (quiet) NaN. */
function bf16FromBits(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Float16 bits (0..0xffff) → its value. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** A number (first rounded to float32, as when it sits in a Float32Array) → float16 bits. */
export function f32ToF16(x: number): number {
  return f16FromBits(f32Bits(x));
}

/** BFloat16 bits (0..0xffff) → its value. */
export function bf16ToF32(h: number): number {
  scratchU32[0] = (h & 0xffff) << 16;
  return scratchF32[0]!;
}

/** A number (first rounded to float32) → bfloat16 bits. */
export function f32ToBf16(x: number): number {
  return bf16FromBits(f32Bits(x));
}

// ---- bulk conversions (used chunk by chunk) -----------------------------------------------------

let f16Table: Float32Array | undefined;

/** out[outStart + i] = value of half[i], for every i. */
export function decodeF16(half: Uint16Array, out: Float32Array, outStart: number): void {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
  }
  const t = f16Table;
  for (let i = 0; i < half.length; i++) out[outStart + i] = t[half[i]!]!;
}

/** out[outStart + i] = value of bf16[i]: the bits simply become the high half of a float32. */
export function decodeBf16(bf16: Uint16Array, out: Float32Array, outStart: number): void {
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bf16.length; i++) o[outStart + i] = bf16[i]! << 16;
}

/** out[i] = float16/bfloat16 bits of src[srcStart + i], for i < out.length. */
export function encodeHalf(kind: 'F16' | 'BF16', src: Float32Array, srcStart: number, out: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const conv = kind === 'F16' ? f16FromBits : bf16FromBits;
  for (let i = 0; i < out.length; i++) out[i] = conv(bits[srcStart + i]!);
}

// ---- integer tensors ----------------------------------------------------------------------------

type IntData = Exclude<TensorData, Float32Array | Float64Array>;

/**
 * Integer tensor data (e.g. I64 token ids) → Int32Array; `what` names it in the error if a value
 * does not fit in int32.
 */
export function toInt32Array(data: IntData, what = 'tensor'): Int32Array {
  if (data instanceof Int32Array) return data.slice();
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const n = Number(v);
    if (n < -0x80000000 || n > 0x7fffffff) {
      throw new CircuitscopeError(`${what}: value ${v} at index ${i} does not fit in int32`,
        'these values cannot be used as 32-bit integers (token ids, indices)');
    }
    out[i] = n;
  }
  return out;
}

/** Integer tensor data → plain numbers; errors if a 64-bit value is beyond ±2^53. */
export function toNumberArray(data: IntData, what = 'tensor'): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const n = Number(v);
    if (!Number.isSafeInteger(n)) {
      throw new CircuitscopeError(`${what}: value ${v} at index ${i} is too large to be an exact JavaScript number`,
        'use the BigInt64Array from read() instead');
    }
    out[i] = n;
  }
  return out;
}
