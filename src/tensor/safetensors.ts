/**
 * Our safetensors reader and writer.
 *
 * Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`), then the raw
 * little-endian tensor bytes, offsets relative to the start of that data section.
 *
 * Reading goes tensor by tensor from the file descriptor straight into each tensor's own buffer, so
 * loading a model never holds the whole file in memory as well as the tensors. Writing goes tensor by
 * tensor to a temporary file beside the target, which is then renamed over it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CircuitscopeError } from '../util/errors.js';
import {
  DTYPE_SIZES, LITTLE_ENDIAN, allocRaw, decodeBf16, decodeF16, isFloatDtype,
  type Dtype, type LoadedTensor,
} from './safetensors-dtypes.js';
import { checkPrefix, parseHeader, type HeaderEntry } from './safetensors-header.js';

export { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16, toInt32Array, toNumberArray, KNOWN_DTYPES } from './safetensors-dtypes.js';
export type { Dtype, LoadedTensor, TensorData } from './safetensors-dtypes.js';
export { writeSafetensors, serializeSafetensors, type TensorInput } from './safetensors-write.js';

export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  /** Bytes the tensor occupies in the file. */
  byteLength: number;
}

export interface SafetensorsFile {
  /** The path (or label) used in error messages. */
  readonly label: string;
  readonly metadata: Record<string, string> | undefined;
  /** Tensor names in header order. */
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** The tensor in its stored dtype; F16/BF16 are widened to a Float32Array. */
  read(name: string): LoadedTensor;
  /** Any float dtype as a Float32Array (F64 narrowed); integer dtypes are an error. */
  readF32(name: string): Float32Array;
  close(): void;
}

/** Bytes of F16/BF16/F64 read per step while converting to float32. */
const CONVERT_CHUNK_BYTES = 1 << 20;
/** readSync handles at most 2 GiB per call. */
const MAX_IO_BYTES = 1 << 30;

interface ByteSource {
  size: number;
  /** Fills `dst` from absolute `position`; throws if the bytes are not there. */
  readInto(dst: Uint8Array, position: number): void;
  close(): void;
}

function fdSource(label: string, fd: number, size: number): ByteSource {
  let open = true;
  return {
    size,
    readInto(dst, position) {
      let done = 0;
      while (done < dst.length) {
        const want = Math.min(dst.length - done, MAX_IO_BYTES);
        const got = fs.readSync(fd, dst, done, want, position + done);
        if (got === 0) {
          throw new CircuitscopeError(`${label}: file ended early at byte ${position + done} (did it change while being read?)`,
            'the file is truncated (re-download it)');
        }
        done += got;
      }
    },
    close() {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    readInto(dst, position) {
      dst.set(bytes.subarray(position, position + dst.length));
    },
    close() {},
  };
}

class Reader implements SafetensorsFile {
  private closed = false;

  constructor(
    readonly label: string,
    private readonly src: ByteSource,
    private readonly dataStart: number,
    private readonly entries: Map<string, HeaderEntry>,
    readonly metadata: Record<string, string> | undefined,
  ) {}

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  info(name: string): TensorInfo {
    const e = this.entry(name);
    return { dtype: e.dtype, shape: [...e.shape], byteLength: e.end - e.begin };
  }

  read(name: string): LoadedTensor {
    const e = this.entry(name);
    const shape = [...e.shape];
    if (e.dtype === 'F16' || e.dtype === 'BF16') return { dtype: e.dtype, shape, data: this.readF32(name) };
    const buf = new ArrayBuffer(e.end - e.begin);
    this.src.readInto(new Uint8Array(buf), this.dataStart + e.begin);
    return { dtype: e.dtype, shape, data: allocRaw(e.dtype, buf) } as LoadedTensor;
  }

  readF32(name: string): Float32Array {
    const e = this.entry(name);
    if (!isFloatDtype(e.dtype)) {
      throw new CircuitscopeError(`${this.label}: tensor "${name}" is ${e.dtype}, not a float tensor`,
        'use read() for integer tensors');
    }
    if (e.dtype === 'F32') return this.read(name).data as Float32Array;
    const size = DTYPE_SIZES[e.dtype];
    const n = (e.end - e.begin) / size;
    const out = new Float32Array(n);
    const chunk = new ArrayBuffer(Math.min(CONVERT_CHUNK_BYTES, e.end - e.begin));
    const step = chunk.byteLength / size;
    for (let i = 0; i < n; i += step) {
      const m = Math.min(step, n - i);
      const bytes = new Uint8Array(chunk, 0, m * size);
      this.src.readInto(bytes, this.dataStart + e.begin + i * size);
      if (e.dtype === 'F64') out.set(new Float64Array(chunk, 0, m), i);
      else if (e.dtype === 'F16') decodeF16(new Uint16Array(chunk, 0, m), out, i);
      else decodeBf16(new Uint16Array(chunk, 0, m), out, i);
    }
    return out;
  }

  close(): void {
    this.closed = true;
    this.src.close();
  }

  private entry(name: string): HeaderEntry {
    if (this.closed) throw new CircuitscopeError(`${this.label}: file is already closed`, 'open it again');
    const e = this.entries.get(name);
    if (!e) {
      const some = this.names().slice(0, 5).map((s) => `"${s}"`).join(', ');
      throw new CircuitscopeError(`${this.label}: no tensor named "${name}" (it has ${this.entries.size}: ${some}${this.entries.size > 5 ? ', …' : ''})`,
        'check the tensor name');
    }
    return e;
  }
}

function checkEndian(): void {
  if (!LITTLE_ENDIAN) throw new CircuitscopeError('safetensors support needs a little-endian CPU', 'run on x86-64 or arm64');
}

function openSource(label: string, src: ByteSource): SafetensorsFile {
  try {
    checkEndian();
    const prefix = new Uint8Array(Math.min(8, src.size));
    src.readInto(prefix, 0);
    const headerLen = checkPrefix(label, prefix, src.size);
    const json = new Uint8Array(headerLen);
    src.readInto(json, 8);
    const { entries, metadata } = parseHeader(label, json, src.size - 8 - headerLen);
    return new Reader(label, src, 8 + headerLen, entries, metadata);
  } catch (e) {
    src.close();
    throw e;
  }
}

/** Opens a safetensors file and validates its header; tensors are read on demand. Call close() when done. */
export function openSafetensors(file: string): SafetensorsFile {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CircuitscopeError(`${file}: no such file`, 'check the path');
    throw new CircuitscopeError(`${file}: cannot open (${(e as Error).message})`, 'check the path and its permissions');
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new CircuitscopeError(`${file}: is a directory, not a safetensors file`,
      `pass the file inside it, e.g. ${path.join(file, 'model.safetensors')}`);
  }
  return openSource(file, fdSource(file, fd, st.size));
}

/** Same as openSafetensors, over bytes already in memory (tensors are copied out, never aliased). */
export function openSafetensorsBytes(bytes: Uint8Array, label = '<in-memory safetensors>'): SafetensorsFile {
  return openSource(label, bytesSource(bytes));
}

export interface SafetensorsContents {
  tensors: Map<string, LoadedTensor>;
  metadata: Record<string, string> | undefined;
}

function readAll(f: SafetensorsFile): SafetensorsContents {
  try {
    const tensors = new Map<string, LoadedTensor>();
    for (const name of f.names()) tensors.set(name, f.read(name));
    return { tensors, metadata: f.metadata };
  } finally {
    f.close();
  }
}

/** Reads every tensor of a file (one at a time, straight into its own array). */
export function readSafetensors(file: string): SafetensorsContents {
  return readAll(openSafetensors(file));
}

/** Reads every tensor from in-memory safetensors bytes. */
export function parseSafetensors(bytes: Uint8Array, label?: string): SafetensorsContents {
  return readAll(openSafetensorsBytes(bytes, label));
}
