import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitscopeError } from '../src/util/errors.js';
import { SHARED } from './shared.js';
import {
  bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, openSafetensors, openSafetensorsBytes, parseSafetensors,
  readSafetensors, serializeSafetensors, toInt32Array, toNumberArray, writeSafetensors,
  type LoadedTensor, type TensorInput,
} from '../src/tensor/safetensors.js';

const shared = SHARED;
const MODEL = path.join(shared, 'models/tiny-gpt2-random/model.safetensors');
const REFERENCE = path.join(shared, 'reference/tiny-gpt2-random.safetensors');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-safetensors-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Builds a safetensors file by hand (independently of our writer), header given as object or raw text. */
function rawFile(header: unknown, dataBytes: number): Uint8Array {
  const json = header instanceof Uint8Array ? Buffer.from(header)
    : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + dataBytes);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  return out;
}

/** Writes bytes to tmp/<name> and returns the error opening and reading it all gives. */
function errorFor(name: string, bytes: Uint8Array): CircuitscopeError {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  try {
    readSafetensors(file);
  } catch (e) {
    expect(e).toBeInstanceOf(CircuitscopeError);
    expect((e as Error).message).not.toContain('\n');
    return e as CircuitscopeError;
  }
  throw new Error(`expected ${name} to be rejected`);
}

/** Header JSON text and data-section start of a serialized file, parsed by hand. */
function headerOf(bytes: Uint8Array): { text: string; dataStart: number } {
  const n = Number(Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64LE(0));
  return { text: Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'), dataStart: 8 + n };
}

describe('float16 / bfloat16 conversions', () => {
  it('converts hand-picked values to and from float16 bits', () => {
    // bits: sign | 5-bit exponent (bias 15) | 10-bit mantissa
    expect(f32ToF16(1)).toBe(0x3c00); // exp 15, mant 0
    expect(f32ToF16(-2)).toBe(0xc000); // sign, exp 16
    expect(f32ToF16(65504)).toBe(0x7bff); // (1 + 1023/1024) · 2^15, largest finite
    expect(f32ToF16(65519)).toBe(0x7bff); // below the midpoint 65520
    expect(f32ToF16(65520)).toBe(0x7c00); // midpoint to 65536 (= inf): ties to even → inf
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(2 ** -14)).toBe(0x0400); // 6.103515625e-5, smallest normal
    expect(f32ToF16(6.1e-5)).toBe(0x03ff); // 6.1e-5 / 2^-24 = 1023.41 → subnormal 1023
    expect(f32ToF16(5.96e-8)).toBe(0x0001); // 2^-24 = 5.9604645e-8, smallest subnormal
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // exactly half the smallest subnormal: ties to even → 0
    expect(f32ToF16(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // 1.5 units: tie between 1 and 2 → 2
    expect(f32ToF16(2 ** -14 - 2 ** -25)).toBe(0x0400); // 1023.5 units rounds up into the normals
    expect(f32ToF16(1e-9)).toBe(0x0000);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x3ff).not.toBe(0);
    // 1/3 = 1.333… · 2^-2: exp 13, mantissa 0.3333 · 1024 = 341.33 → 341 = 0x155
    expect(f32ToF16(1 / 3)).toBe((13 << 10) | 341);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie between 0x3c00 and 0x3c01 → even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3c01 and 0x3c02 → even

    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0400)).toBe(6.103515625e-5);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x0001)).toBe(5.960464477539063e-8);
    expect(f16ToF32(0x3555)).toBe((1 + 341 / 1024) / 4); // 0.333251953125
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0x7c01)).toBeNaN();
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
  });

  it('float16: every finite value round-trips and every midpoint rounds to even', () => {
    const f32 = new Float32Array(1);
    const next = (x: number, dir: 1 | -1) => {
      // neighbouring float32 of a positive x
      const u = new Uint32Array(f32.buffer);
      f32[0] = x;
      u[0]! += dir;
      return f32[0]!;
    };
    const bad: string[] = [];
    const want = (x: number, h: number) => {
      const got = f32ToF16(x);
      if (got !== h) bad.push(`${x} → ${got.toString(16)}, expected ${h.toString(16)}`);
    };
    for (let h = 0; h < 0x7c00; h++) {
      want(f16ToF32(h), h);
      want(-f16ToF32(h), h | 0x8000);
      if (h === 0x7bff) break;
      const mid = (f16ToF32(h) + f16ToF32(h + 1)) / 2; // exact in float32
      want(mid, h & 1 ? h + 1 : h);
      want(next(mid, -1), h);
      want(next(mid, 1), h + 1);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('converts hand-picked values to and from bfloat16 bits', () => {
    // bfloat16 = top 16 bits of float32
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(-2)).toBe(0xc000);
    expect(f32ToBf16(Infinity)).toBe(0x7f80);
    expect(f32ToBf16(-Infinity)).toBe(0xff80);
    expect(f32ToBf16(NaN) & 0x7f80).toBe(0x7f80);
    expect(f32ToBf16(NaN) & 0x7f).not.toBe(0);
    // 1/3 as float32 is 0x3eaaaaab: low half 0xaaab > 0x8000 → round up to 0x3eab
    expect(f32ToBf16(1 / 3)).toBe(0x3eab);
    expect(bf16ToF32(0x3eab)).toBe(0.333984375);
    // 65504 = 0x477fe000: low half 0xe000 rounds up → 0x4780 = 65536
    expect(f32ToBf16(65504)).toBe(0x4780);
    expect(bf16ToF32(0x4780)).toBe(65536);
    // ties: 0x3f808000 → 0x3f80 (even), 0x3f818000 → 0x3f82
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16(3.4028234663852886e38)).toBe(0x7f80); // max float32 rounds to inf
    expect(f32ToBf16(2 ** -133)).toBe(0x0001); // float32 subnormal 0x00010000
    expect(bf16ToF32(0x0001)).toBe(2 ** -133);
    expect(f32ToBf16(-0)).toBe(0x8000);
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc000)).toBe(-2);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    // a NaN whose payload is only in the low bits must stay NaN, not become inf
    const nan = new Float32Array(new Uint32Array([0x7f800001]).buffer)[0]!;
    expect(bf16ToF32(f32ToBf16(nan))).toBeNaN();
  });

  it('bfloat16 picks the nearest value (ties to even) for random float32s', () => {
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      bits[0] = seed & 0x7f7fffff; // positive, finite
      const x = f[0]!;
      const lo = bits[0]! >>> 16;
      const dLo = x - bf16ToF32(lo);
      const dHi = (lo + 1 === 0x7f80 ? 2 ** 128 : bf16ToF32(lo + 1)) - x; // past the largest finite: 2^128
      const want = dLo < dHi ? lo : dHi < dLo ? lo + 1 : lo & 1 ? lo + 1 : lo;
      expect(f32ToBf16(x)).toBe(want);
    }
  });
});

describe('writing and reading back', () => {
  const all: Record<string, TensorInput> = {
    f32: { shape: [2, 3], data: new Float32Array([1.5, -2, 3.25, 0, -0.125, 1e-30]) },
    f64: { shape: [3], data: new Float64Array([Math.PI, -1e300, 5e-324]) },
    i64: { shape: [2, 2], data: new BigInt64Array([0n, -1n, 2n ** 62n, -(2n ** 63n)]) },
    u64: { shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    i32: { shape: [4], data: new Int32Array([0, -1, 2147483647, -2147483648]) },
    u32: { shape: [1], data: new Uint32Array([4294967295]) },
    i16: { shape: [2], data: new Int16Array([-32768, 32767]) },
    u16: { shape: [2], data: new Uint16Array([0, 65535]) },
    i8: { shape: [2], data: new Int8Array([-128, 127]) },
    u8: { shape: [3], data: new Uint8Array([0, 128, 255]) },
    bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    f16: { dtype: 'F16', shape: [4], data: new Float32Array([1, -2, 65504, 1 / 3]) },
    bf16: { dtype: 'BF16', shape: [2, 2], data: new Float32Array([1, -2, 65504, 1 / 3]) },
    f16bits: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0x7c00]) },
    empty: { shape: [0], data: new Float32Array(0) },
    empty2d: { shape: [3, 0], data: new Int32Array(0) },
    scalar: { shape: [], data: new Float32Array([42.5]) },
  };
  const expectedDtype: Record<string, string> = {
    f32: 'F32', f64: 'F64', i64: 'I64', u64: 'U64', i32: 'I32', u32: 'U32', i16: 'I16', u16: 'U16', i8: 'I8',
    u8: 'U8', bool: 'BOOL', f16: 'F16', bf16: 'BF16', f16bits: 'F16', empty: 'F32', empty2d: 'I32', scalar: 'F32',
  };
  const meta = { format: 'pt', note: 'ünïcødé ✓', empty: '' };

  function checkContents(tensors: Map<string, LoadedTensor>) {
    expect([...tensors.keys()].sort()).toEqual(Object.keys(all).sort());
    for (const [name, t] of Object.entries(all)) {
      const got = tensors.get(name)!;
      expect(got.dtype, name).toBe(expectedDtype[name]);
      expect(got.shape, name).toEqual(t.shape);
      if (name === 'f16') expect([...(got.data as Float32Array)]).toEqual([1, -2, 65504, 0.333251953125]);
      else if (name === 'bf16') expect([...(got.data as Float32Array)]).toEqual([1, -2, 65536, 0.333984375]);
      else if (name === 'f16bits') expect([...(got.data as Float32Array)]).toEqual([1, Infinity]);
      else {
        expect(got.data.constructor, name).toBe(t.data.constructor);
        expect(Array.from(got.data as ArrayLike<unknown>), name).toEqual(Array.from(t.data as ArrayLike<unknown>));
      }
    }
  }

  it('round-trips every dtype, empty and scalar tensors, and metadata through a file', () => {
    const file = path.join(tmp, 'all.safetensors');
    writeSafetensors(file, all, meta);
    const { tensors, metadata } = readSafetensors(file);
    expect(metadata).toEqual(meta);
    checkContents(tensors);
    // the in-memory writer produces the very same bytes, and the in-memory reader reads them
    const bytes = serializeSafetensors(new Map(Object.entries(all)), meta);
    expect(Buffer.from(bytes).equals(fs.readFileSync(file))).toBe(true);
    const mem = parseSafetensors(bytes);
    expect(mem.metadata).toEqual(meta);
    checkContents(mem.tensors);
  });

  it('writes a sorted header padded with spaces to a multiple of 8, with contiguous offsets', () => {
    for (const extra of ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg']) {
      const bytes = serializeSafetensors({
        zeta: { shape: [1], data: new Float32Array([1]) },
        '10': { shape: [2], data: new Float64Array([1, 2]) },
        alpha: { shape: [1], data: new Int32Array([7]) },
        [`m${extra}`]: { shape: [], data: new BigInt64Array([5n]) },
      }, { k: extra });
      const { text, dataStart } = headerOf(bytes);
      expect(dataStart % 8).toBe(0);
      expect(text).toMatch(/^\{"__metadata__":\{"k":"[a-g]*"\}/);
      const trimmed = text.trimEnd();
      expect(text.length - trimmed.length).toBeLessThan(8);
      expect(text.slice(trimmed.length)).toMatch(/^ *$/);
      const keys = Object.keys(JSON.parse(trimmed)).filter((k) => k !== '__metadata__');
      // JSON.parse moves "10" to the front anyway; check the textual order instead
      const order = [...trimmed.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
      expect(order).toEqual(['10', 'alpha', `m${extra}`, 'zeta']);
      expect(keys.length).toBe(4);
      const h = JSON.parse(trimmed);
      expect(h['10'].data_offsets).toEqual([0, 16]);
      expect(h.alpha.data_offsets).toEqual([16, 20]);
      expect(h[`m${extra}`].data_offsets).toEqual([20, 28]);
      expect(h.zeta.data_offsets).toEqual([28, 32]);
      expect(bytes.length).toBe(dataStart + 32);
      expect(Buffer.from(bytes).readDoubleLE(dataStart + 8)).toBe(2);
    }
  });

  it('omits __metadata__ when none is given', () => {
    const { text } = headerOf(serializeSafetensors({ a: { shape: [1], data: new Float32Array([1]) } }));
    expect(text.trimEnd()).toBe('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
    expect(parseSafetensors(serializeSafetensors({})).tensors.size).toBe(0);
  });

  it('writes from typed-array views at an offset, and F16 in chunks past the chunk size', () => {
    const big = new Float32Array(300_000 + 5);
    for (let i = 0; i < big.length; i++) big[i] = Math.sin(i) * 1000;
    const view = big.subarray(5);
    const file = path.join(tmp, 'chunks.safetensors');
    writeSafetensors(file, {
      f16: { dtype: 'F16', shape: [view.length], data: view },
      bf16: { dtype: 'BF16', shape: [view.length], data: view },
      f32: { shape: [view.length], data: view },
      f64: { shape: [2], data: new Float64Array([1.25, -1e-300]) },
    });
    const f = openSafetensors(file);
    try {
      const h = f.readF32('f16');
      const b = f.readF32('bf16');
      const f32 = f.readF32('f32');
      expect(f32.length).toBe(view.length);
      expect(f32.every((x, i) => x === view[i])).toBe(true);
      for (let i = 0; i < view.length; i += 997) {
        expect(h[i]).toBe(f16ToF32(f32ToF16(view[i]!)));
        expect(b[i]).toBe(bf16ToF32(f32ToBf16(view[i]!)));
      }
      expect(h[view.length - 1]).toBe(f16ToF32(f32ToF16(view[view.length - 1]!)));
      expect([...f.readF32('f64')]).toEqual([1.25, -0]); // F64 narrowed to float32
      expect(f.info('f16')).toEqual({ dtype: 'F16', shape: [view.length], byteLength: view.length * 2 });
    } finally {
      f.close();
    }
  });

  it('replaces the target atomically and leaves no temporary files', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const file = path.join(dir, 'out.safetensors');
    writeSafetensors(file, { a: { shape: [1], data: new Float32Array([1]) } });
    writeSafetensors(file, { b: { shape: [1], data: new Float32Array([2]) } });
    expect(fs.readdirSync(dir)).toEqual(['out.safetensors']);
    expect([...readSafetensors(file).tensors.keys()]).toEqual(['b']);
    // a rejected write leaves the old file alone
    expect(() => writeSafetensors(file, { c: { shape: [2], data: new Float32Array([1]) } })).toThrow(CircuitscopeError);
    expect([...readSafetensors(file).tensors.keys()]).toEqual(['b']);
    expect(fs.readdirSync(dir)).toEqual(['out.safetensors']);
  });

  it('rejects bad input to the writer with one clear error', () => {
    const f32 = new Float32Array([1, 2, 3]);
    const cases: [Record<string, TensorInput>, Record<string, string> | undefined, RegExp][] = [
      [{ w: { shape: [2, 2], data: f32 } }, undefined, /tensor "w": shape \[2, 2\] has 4 elements but the data has 3/],
      [{ w: { shape: [-3], data: f32 } }, undefined, /tensor "w": shape \[-3\] must be an array of non-negative integers/],
      [{ w: { dtype: 'I32', shape: [3], data: f32 } }, undefined, /dtype I32 cannot be written from a Float32Array/],
      [{ w: { dtype: 'F16', shape: [3], data: new Float64Array(3) } }, undefined, /dtype F16 cannot be written from a Float64Array/],
      [{ w: { shape: [3], data: [1, 2, 3] as unknown as Float32Array } }, undefined, /tensor "w": data must be a typed array/],
      [{ __metadata__: { shape: [3], data: f32 } }, undefined, /"__metadata__" is reserved/],
      [{ w: { shape: [3], data: f32 } }, { n: 3 } as unknown as Record<string, string>, /"__metadata__" value for "n" must be a string/],
    ];
    for (const [tensors, meta, re] of cases) {
      expect(() => serializeSafetensors(tensors, meta)).toThrow(re);
      expect(() => serializeSafetensors(tensors, meta)).toThrow(CircuitscopeError);
    }
    const missing = path.join(tmp, 'no-such-dir', 'x.safetensors');
    expect(() => writeSafetensors(missing, { w: { shape: [3], data: f32 } })).toThrow(/x\.safetensors: cannot write .* create the folder/);
  });
});

describe('integer helpers', () => {
  it('converts I64 token ids to Int32Array and numbers, rejecting values that do not fit', () => {
    expect([...toInt32Array(new BigInt64Array([0n, 255n, -7n]))]).toEqual([0, 255, -7]);
    expect(toNumberArray(new BigInt64Array([2n ** 53n - 1n, -3n]))).toEqual([2 ** 53 - 1, -3]);
    expect([...toInt32Array(new Uint8Array([1, 2]))]).toEqual([1, 2]);
    expect(() => toInt32Array(new BigInt64Array([1n, 2n ** 31n]), 'tokens')).toThrow(/tokens: value 2147483648 at index 1 does not fit in int32/);
    expect(() => toNumberArray(new BigInt64Array([2n ** 60n]), 'ids')).toThrow(/ids: value 1152921504606846976 at index 0 is too large/);
  });
});

describe('real files in ../shared', () => {
  it('reads the tiny GPT-2 model with the Hugging Face layout and the right values', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(path.dirname(MODEL), 'config.json'), 'utf8'));
    const d = cfg.n_embd as number;
    const f = openSafetensors(MODEL);
    try {
      expect(f.metadata).toEqual({ format: 'pt' });
      const expected: Record<string, number[]> = {
        'wte.weight': [cfg.vocab_size, d],
        'wpe.weight': [cfg.n_positions, d],
        'ln_f.weight': [d],
        'ln_f.bias': [d],
      };
      for (let l = 0; l < cfg.n_layer; l++) {
        Object.assign(expected, {
          [`h.${l}.ln_1.weight`]: [d], [`h.${l}.ln_1.bias`]: [d],
          [`h.${l}.attn.c_attn.weight`]: [d, 3 * d], [`h.${l}.attn.c_attn.bias`]: [3 * d],
          [`h.${l}.attn.c_proj.weight`]: [d, d], [`h.${l}.attn.c_proj.bias`]: [d],
          [`h.${l}.ln_2.weight`]: [d], [`h.${l}.ln_2.bias`]: [d],
          [`h.${l}.mlp.c_fc.weight`]: [d, 4 * d], [`h.${l}.mlp.c_fc.bias`]: [4 * d],
          [`h.${l}.mlp.c_proj.weight`]: [4 * d, d], [`h.${l}.mlp.c_proj.bias`]: [d],
        });
      }
      expect(f.names().sort()).toEqual(Object.keys(expected).sort());
      expect(f.info('wte.weight')).toEqual({ dtype: 'F32', shape: [256, 64], byteLength: 256 * 64 * 4 });
      expect(f.info('h.0.attn.c_attn.weight').shape).toEqual([64, 192]);

      // compare against the raw bytes, located and decoded independently here
      const raw = fs.readFileSync(MODEL);
      const n = Number(raw.readBigUInt64LE(0));
      const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8'));
      for (const [name, shape] of Object.entries(expected)) {
        const t = f.read(name);
        expect(t.dtype).toBe('F32');
        expect(t.shape, name).toEqual(shape);
        expect(t.data).toBeInstanceOf(Float32Array);
        const [begin, end] = header[name].data_offsets as [number, number];
        expect(t.data.length * 4).toBe(end - begin);
        for (let i = 0; i < t.data.length; i++) {
          const want = raw.readFloatLE(8 + n + begin + 4 * i);
          if (t.data[i] !== want) expect(t.data[i], `${name}[${i}]`).toBe(want);
        }
        expect((t.data as Float32Array).some(Number.isNaN), name).toBe(false);
      }
      expect(f.readF32('h.0.ln_1.weight')[0]).toBeCloseTo(1.2139190435409546, 7);
      // layer-norm gains are near 1, biases near 0, in this random model
      for (const name of ['ln_f', 'h.0.ln_1', 'h.1.ln_2']) {
        const w = f.readF32(`${name}.weight`);
        const b = f.readF32(`${name}.bias`);
        expect(w.reduce((a, x) => a + x, 0) / w.length).toBeGreaterThan(0.8);
        expect(w.reduce((a, x) => a + x, 0) / w.length).toBeLessThan(1.2);
        expect(Math.max(...b.map(Math.abs))).toBeLessThan(0.5);
      }
    } finally {
      f.close();
    }
  });

  it('reads the reference activations: I64 tokens, F64 metric, F32 caches', () => {
    const { tensors, metadata } = readSafetensors(REFERENCE);
    expect(metadata?.tokens).toBe('int64 [3,12]');
    const tokens = tensors.get('tokens')!;
    expect(tokens.dtype).toBe('I64');
    expect(tokens.shape).toEqual([3, 12]);
    if (tokens.dtype !== 'I64') throw new Error('unreachable');
    const ids = toInt32Array(tokens.data, 'tokens');
    expect(ids.every((t) => t >= 0 && t < 256)).toBe(true);
    expect([...ids.slice(0, 4)]).toEqual([217, 197, 83, 217]);
    const metric = tensors.get('metric')!;
    expect(metric.dtype).toBe('F64');
    expect(metric.shape).toEqual([1]);
    expect(metric.data).toBeInstanceOf(Float64Array);
    expect(metric.data[0]).toBeCloseTo(-4.232576458755769, 12);
    expect(tensors.get('logits')!.shape).toEqual([3, 12, 256]);
    expect(tensors.get('cache.blocks.0.attn.hook_pattern')!.shape).toEqual([3, 4, 12, 12]);
    for (const [name, t] of tensors) {
      if (name === 'tokens' || name === 'metric') continue;
      expect(t.dtype, name).toBe('F32');
    }
    // attention pattern rows sum to 1
    const pat = tensors.get('cache.blocks.0.attn.hook_pattern')!.data as Float32Array;
    const row = pat.subarray(12 * 5, 12 * 6);
    expect(row.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 5);
    // and the same file read from memory gives the same tokens
    const mem = openSafetensorsBytes(fs.readFileSync(REFERENCE), 'reference');
    expect(mem.read('tokens').data).toEqual(tokens.data);
    expect(() => mem.readF32('tokens')).toThrow(/reference: tensor "tokens" is I64, not a float tensor/);
    mem.close();
  });
});

describe('validation errors', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('too-short file, absurd / zero / past-the-end header length, LFS pointer', () => {
    expect(errorFor('short.safetensors', new Uint8Array(5)).message)
      .toMatch(/short\.safetensors: file is only 5 bytes, too short to be a safetensors file/);
    expect(errorFor('empty.safetensors', new Uint8Array(0)).message).toMatch(/empty\.safetensors: file is only 0 bytes/);
    const huge = Buffer.alloc(64);
    huge.writeBigUInt64LE(0x7b22612200000000n, 0);
    expect(errorFor('huge.safetensors', huge).message)
      .toMatch(/huge\.safetensors: header length is \d+ bytes \(must be between 1 and 104857600\), so this is not a safetensors file/);
    expect(errorFor('zero.safetensors', Buffer.alloc(16)).message).toMatch(/zero\.safetensors: header length is 0 bytes/);
    const past = Buffer.alloc(40);
    past.writeBigUInt64LE(1000n, 0);
    expect(errorFor('past.safetensors', past).message)
      .toMatch(/past\.safetensors: header says it is 1000 bytes but the file has only 32 bytes .* truncated/);
    expect(errorFor('lfs.safetensors', Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:abc\n')).message)
      .toMatch(/lfs\.safetensors: this is a Git LFS pointer/);
  });

  it('header that is not UTF-8 JSON or not an object', () => {
    expect(errorFor('json.safetensors', rawFile('{"a": {"dtype": "F32",', 8)).message)
      .toMatch(/json\.safetensors: header is not valid JSON \(.+\) — the file is truncated or damaged/);
    expect(errorFor('utf8.safetensors', rawFile(Buffer.from([...Buffer.from('{"'), 0xff, ...Buffer.from('": 1}')]), 0)).message)
      .toMatch(/utf8\.safetensors: header is not valid JSON \(not valid UTF-8\)/);
    expect(errorFor('array.safetensors', rawFile('[1, 2]', 0)).message).toMatch(/array\.safetensors: header must be a JSON object/);
  });

  it('entries with missing or mistyped fields, unknown dtype, bad shape', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: 5 }, /tensor "a" is not an object with dtype, shape and data_offsets/],
      [{ a: { shape: [2], data_offsets: [0, 8] } }, /tensor "a" has no "dtype"/],
      [{ a: { dtype: 'F32', data_offsets: [0, 8] } }, /tensor "a" has no "shape"/],
      [{ a: { dtype: 'F32', shape: [2] } }, /tensor "a" has no "data_offsets"/],
      [{ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } },
        /tensor "a" has unsupported dtype "F8_E4M3" \(known: F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL\)/],
      [{ a: { dtype: 7, shape: [2], data_offsets: [0, 8] } }, /tensor "a" has unsupported dtype 7/],
      [{ a: { dtype: 'F32', shape: 2, data_offsets: [0, 8] } }, /tensor "a" has shape 2, expected an array/],
      [{ a: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }, /tensor "a" has shape \[2,-1\]: dimensions must be non-negative integers/],
      [{ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, /tensor "a" has shape \[1.5\]: dimensions must be non-negative integers/],
      [{ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, /tensor "a" has data_offsets \[0\], expected \[begin, end\]/],
      [{ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, /tensor "a" has data_offsets \[8, 0\] with end before begin/],
      [{ __metadata__: { n: 1 }, ...ok }, /"__metadata__" value for "n" must be a string/],
      [{ __metadata__: [], ...ok }, /"__metadata__" must be an object of string values/],
    ];
    for (const [header, re] of cases) {
      const msg = errorFor('entry.safetensors', rawFile(header, 8)).message;
      expect(msg).toMatch(/^.*entry\.safetensors: /);
      expect(msg).toMatch(re);
    }
  });

  it('wrong byte count, out-of-range and overlapping offsets', () => {
    expect(errorFor('count.safetensors', rawFile({ a: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, 24)).message)
      .toMatch(/count\.safetensors: tensor "a" is F32 of shape \[2, 3\] = 24 bytes, but data_offsets \[0, 20\) hold 20 bytes/);
    expect(errorFor('range.safetensors', rawFile({ a: { dtype: 'F64', shape: [4], data_offsets: [8, 40] } }, 16)).message)
      .toMatch(/range\.safetensors: tensor "a" needs 32 bytes at \[8, 40\) but the data section has only 16 bytes — the file is truncated/);
    const overlap = { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'I32', shape: [4], data_offsets: [8, 24] } };
    expect(errorFor('overlap.safetensors', rawFile(overlap, 24)).message)
      .toMatch(/overlap\.safetensors: tensors "a" \[0, 16\) and "b" \[8, 24\) overlap in the data section/);
    // empty tensors may sit anywhere, and the same offsets as a neighbour
    const fine = { a: { dtype: 'F32', shape: [0], data_offsets: [4, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(parseSafetensors(rawFile(fine, 8)).tensors.get('a')!.data.length).toBe(0);
  });

  it('a truncated download of the real model names the first tensor that is cut off', () => {
    const cut = fs.readFileSync(MODEL).subarray(0, 100_000);
    expect(errorFor('model.safetensors', cut).message).toMatch(
      /model\.safetensors: tensor "h\.0\.attn\.c_attn\.weight" needs 49152 bytes at \[74752, 123904\) but the data section has only 97696 bytes — the file is truncated, probably an incomplete download \(re-download it\)/,
    );
  });

  it('missing file, directory, unknown tensor name, closed file', () => {
    expect(() => openSafetensors(path.join(tmp, 'nope.safetensors'))).toThrow(/nope\.safetensors: no such file — check the path/);
    expect(() => openSafetensors(tmp)).toThrow(/is a directory, not a safetensors file/);
    const f = openSafetensors(MODEL);
    expect(() => f.read('wte')).toThrow(/model\.safetensors: no tensor named "wte" \(it has 28: "wte\.weight", /);
    f.close();
    expect(() => f.read('wte.weight')).toThrow(/model\.safetensors: file is already closed/);
  });
});

describe('memory', () => {
  it('reads a 200 MB file tensor by tensor without holding the file as well as the tensors', () => {
    const file = path.join(tmp, 'big.safetensors');
    const perTensor = 12_500_000; // 50 MB of F32 each
    const names = ['t0', 't1', 't2', 't3'];
    const header: Record<string, unknown> = {};
    names.forEach((n, i) => {
      header[n] = { dtype: 'F32', shape: [perTensor], data_offsets: [i * perTensor * 4, (i + 1) * perTensor * 4] };
    });
    const head = rawFile(header, 0);
    const total = head.length + names.length * perTensor * 4;
    fs.writeFileSync(file, head);
    fs.truncateSync(file, total); // sparse zeros: fast, uses no disk
    const fd = fs.openSync(file, 'r+');
    const mark = Buffer.alloc(4);
    names.forEach((_, i) => {
      mark.writeFloatLE(i + 0.5, 0);
      fs.writeSync(fd, mark, 0, 4, head.length + ((i + 1) * perTensor - 1) * 4); // last element of each
    });
    fs.closeSync(fd);

    const size = total;
    const before = process.memoryUsage();
    let peakBuffers = 0;
    let peakRss = 0;
    const f = openSafetensors(file);
    const kept: Float32Array[] = [];
    for (const n of names) {
      kept.push(f.readF32(n));
      const now = process.memoryUsage();
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers - before.arrayBuffers);
      peakRss = Math.max(peakRss, now.rss - before.rss);
    }
    f.close();
    kept.forEach((t, i) => {
      expect(t.length).toBe(perTensor);
      expect(t[perTensor - 1]).toBe(i + 0.5);
      expect(t[0]).toBe(0);
    });
    // the tensors themselves are `size` bytes; reading the whole file first would need twice that
    expect(peakBuffers).toBeLessThan(size * 1.1);
    expect(peakRss).toBeLessThan(size * 1.4);
    fs.rmSync(file);
  });

  it('converts F16 in bounded chunks: only the output array is allocated', () => {
    const n = 4_000_000;
    const bytes = serializeSafetensors({ h: { dtype: 'F16', shape: [n], data: new Float32Array(n).fill(0.5) } });
    const f = openSafetensorsBytes(bytes, 'half');
    const before = process.memoryUsage().arrayBuffers;
    const out = f.readF32('h');
    const grew = process.memoryUsage().arrayBuffers - before;
    expect(out[n - 1]).toBe(0.5);
    expect(grew).toBeLessThan(n * 4 + 4 * 1024 * 1024);
  });
});
