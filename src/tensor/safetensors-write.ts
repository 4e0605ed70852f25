/**
 * Writing safetensors: header with sorted tensor names padded to 8 bytes, then each tensor's bytes in
 * that order. To disk, tensor by tensor into a temporary file beside the target that is then renamed over
 * it (so a crash never leaves a half-written model); or into one Uint8Array in memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CircuitscopeError } from '../util/errors.js';
import { DTYPE_SIZES, LITTLE_ENDIAN, encodeHalf, inferDtype, type Dtype, type TensorData } from './safetensors-dtypes.js';
import { checkMetadata } from './safetensors-header.js';

export interface TensorInput {
  /**
   * Stored dtype; by default inferred from the array (Float32Array → F32, Float64Array → F64,
   * Int32Array → I32, BigInt64Array → I64, …). 'F16'/'BF16' take a Float32Array (converted, round to
   * nearest even) or a Uint16Array of raw bits; 'BOOL' takes a Uint8Array.
   */
  dtype?: Dtype;
  shape: readonly number[];
  data: TensorData;
}

export type TensorsToWrite = Map<string, TensorInput> | Record<string, TensorInput>;

interface Planned {
  dtype: Dtype;
  data: TensorData;
  /** Set when a Float32Array is converted to half precision on the way out. */
  encode: 'F16' | 'BF16' | undefined;
}

/** Elements converted per step when writing F16/BF16 from float32. */
const ENCODE_CHUNK = 1 << 18;
const MAX_IO_BYTES = 1 << 30;

function planTensor(label: string, name: string, t: TensorInput): Planned {
  const where = `${label}: tensor "${name}"`;
  if (name === '__metadata__') {
    throw new CircuitscopeError(`${label}: "__metadata__" is reserved and cannot be a tensor name`, 'rename the tensor');
  }
  const inferred = inferDtype(t?.data);
  if (!inferred) throw new CircuitscopeError(`${where}: data must be a typed array (e.g. Float32Array)`, 'convert it first');
  const dtype = t.dtype ?? inferred;
  let encode: Planned['encode'];
  if ((dtype === 'F16' || dtype === 'BF16') && inferred === 'F32') encode = dtype;
  else if (dtype !== inferred && !(dtype === 'BOOL' && inferred === 'U8') && !((dtype === 'F16' || dtype === 'BF16') && inferred === 'U16')) {
    throw new CircuitscopeError(`${where}: dtype ${dtype} cannot be written from a ${t.data.constructor.name}`,
      `pass data as the matching typed array, or omit dtype to store it as ${inferred}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CircuitscopeError(`${where}: shape ${JSON.stringify(t.shape)} must be an array of non-negative integers`, 'fix the shape');
  }
  const elems = t.shape.reduce((a, d) => a * d, 1);
  if (elems !== t.data.length) {
    throw new CircuitscopeError(`${where}: shape [${t.shape.join(', ')}] has ${elems} elements but the data has ${t.data.length}`,
      'fix the shape or the data');
  }
  return { dtype, data: t.data, encode };
}

/** Validates everything and builds the header (8-byte length prefix + padded JSON). */
function plan(label: string, tensors: TensorsToWrite, metadata: Record<string, string> | undefined) {
  if (!LITTLE_ENDIAN) throw new CircuitscopeError('safetensors support needs a little-endian CPU', 'run on x86-64 or arm64');
  const pairs = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const items: Planned[] = [];
  // Built by hand, not JSON.stringify(object): an object would move integer-like names to the front.
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`"__metadata__":${JSON.stringify(checkMetadata(label, metadata, 'pass metadata as { key: "string value" }'))}`);
  let offset = 0;
  for (const [name, t] of pairs) {
    const p = planTensor(label, name, t);
    const bytes = p.data.length * DTYPE_SIZES[p.dtype];
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: p.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    items.push(p);
    offset += bytes;
  }
  let json = `{${parts.join(',')}}`;
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const header = new Uint8Array(8 + jsonBytes.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  header.set(jsonBytes, 8);
  return { header, items, total: header.length + offset };
}

/** A tensor's stored bytes, in order; half-precision output comes in bounded chunks (reused buffer). */
function* tensorBytes(p: Planned): Generator<Uint8Array> {
  if (!p.encode) {
    yield new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength);
    return;
  }
  const src = p.data as Float32Array;
  const scratch = new Uint16Array(Math.min(src.length, ENCODE_CHUNK));
  for (let i = 0; i < src.length; i += scratch.length) {
    const out = scratch.subarray(0, Math.min(scratch.length, src.length - i));
    encodeHalf(p.encode, src, i, out);
    yield new Uint8Array(out.buffer, 0, out.byteLength);
  }
}

/** The whole file in memory. */
export function serializeSafetensors(tensors: TensorsToWrite, metadata?: Record<string, string>): Uint8Array {
  const { header, items, total } = plan('<in-memory safetensors>', tensors, metadata);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let pos = header.length;
  for (const p of items) {
    for (const chunk of tensorBytes(p)) {
      out.set(chunk, pos);
      pos += chunk.length;
    }
  }
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) {
    done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, MAX_IO_BYTES));
  }
}

/** Writes a safetensors file atomically (temporary file in the same folder, then rename). */
export function writeSafetensors(file: string, tensors: TensorsToWrite, metadata?: Record<string, string>): void {
  const { header, items } = plan(file, tensors, metadata);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    writeAll(fd, header);
    for (const p of items) for (const chunk of tensorBytes(p)) writeAll(fd, chunk);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (e instanceof CircuitscopeError) throw e;
    const err = e as NodeJS.ErrnoException;
    const hint = err.code === 'ENOENT' ? `create the folder ${path.dirname(file)} first`
      : err.code === 'ENOSPC' ? 'free some disk space' : 'check the path and its permissions';
    throw new CircuitscopeError(`${file}: cannot write (${err.message})`, hint);
  }
}
