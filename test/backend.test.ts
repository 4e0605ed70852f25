import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Backend, BackendName } from '../src/tensor/backend.js';
import { loadNative } from '../src/tensor/backend-native.js';
import { availableBackends, createBackend, getBackend } from '../src/tensor/backend-select.js';
import { CircuitscopeError } from '../src/util/errors.js';

/** Deterministic uniform values in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function randomArray(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, r);
}

interface Case {
  ta: boolean; tb: boolean; m: number; n: number; k: number; alpha: number; beta: number;
  a: Float32Array; offA: number; lda: number; b: Float32Array; offB: number; ldb: number;
  c: Float32Array; offC: number; ldc: number;
}

/**
 * Float64 reference of one GEMM on a copy of the whole C array, plus a per-element error bound:
 * (k + 4)·eps32 · (|alpha|·Σ|a||b| + |beta·c|) — the classic worst-case bound for a length-k dot product.
 */
function reference(g: Case): { want: Float64Array; tol: Float64Array } {
  const want = Float64Array.from(g.c);
  const tol = new Float64Array(g.c.length);
  for (let i = 0; i < g.m; i++) {
    for (let j = 0; j < g.n; j++) {
      let s = 0, mag = 0;
      for (let p = 0; g.alpha !== 0 && p < g.k; p++) {  // alpha = 0: A and B are not read
        const av = g.ta ? g.a[g.offA + p * g.lda + i]! : g.a[g.offA + i * g.lda + p]!;
        const bv = g.tb ? g.b[g.offB + j * g.ldb + p]! : g.b[g.offB + p * g.ldb + j]!;
        s += av * bv;
        mag += Math.abs(av * bv);
      }
      const o = g.offC + i * g.ldc + j;
      const old = g.beta === 0 ? 0 : g.beta * g.c[o]!;  // beta = 0: C is overwritten, NaN or not
      want[o] = (g.k === 0 || g.alpha === 0 ? 0 : g.alpha * s) + old;
      tol[o] = (g.k + 4) * 1.2e-7 * (Math.abs(g.alpha) * mag + Math.abs(old)) + 1e-30;
    }
  }
  return { want, tol };
}

/** Every element of `got` matches `want` within `tol` (elements outside C must be bit-identical). */
function expectClose(got: Float32Array, want: Float64Array, tol: Float64Array, label: string): void {
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!(Math.abs(g - w) <= tol[i]!)) {
      throw new Error(`${label}: element ${i} is ${g}, expected ${w} (tolerance ${tol[i]})`);
    }
  }
}

/** Builds a random case with padded leading dims, offsets, and (optionally) subarray views. */
function makeCase(
  ta: boolean, tb: boolean, m: number, n: number, k: number, seed: number,
  opts: { alpha?: number; beta?: number; pad?: number; view?: boolean; nanC?: boolean } = {},
): Case {
  const pad = opts.pad ?? 3;
  const lda = Math.max(1, ta ? m : k) + pad, ldb = Math.max(1, tb ? k : n) + pad + 1, ldc = Math.max(1, n) + pad + 2;
  const offA = 5, offB = 2, offC = 7;
  const sizeA = offA + (ta ? k : m) * lda + 3, sizeB = offB + (tb ? n : k) * ldb + 3, sizeC = offC + m * ldc + 3;
  const wrap = (x: Float32Array): Float32Array => {
    if (!opts.view) return x;
    const big = new Float32Array(x.length + 11);  // a view whose byteOffset is not a multiple of 64
    big.set(x, 9);
    return big.subarray(9, 9 + x.length);
  };
  const c = opts.nanC ? new Float32Array(sizeC).fill(NaN) : randomArray(sizeC, seed + 3);
  return {
    ta, tb, m, n, k, alpha: opts.alpha ?? 0.75, beta: opts.beta ?? -0.5,
    a: wrap(randomArray(sizeA, seed + 1)), offA, lda, b: wrap(randomArray(sizeB, seed + 2)), offB, ldb,
    c: wrap(c), offC, ldc,
  };
}

function run(be: Backend, g: Case): void {
  be.sgemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.a, g.offA, g.lda, g.b, g.offB, g.ldb, g.beta, g.c, g.offC, g.ldc);
}

function checkCase(be: Backend, g: Case, label: string): void {
  const { want, tol } = reference(g);
  run(be, g);
  expectClose(g.c, want, tol, `${be.name} ${label}`);
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
// Odd sizes, K beyond one 256-deep block, N beyond one 1024-wide panel, shapes big enough for the
// portable kernel to split across threads along n (200×1100) and along m (300×40), and operands large
// enough (> 64K floats) that the portable kernel packs them instead of reading them in place.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [7, 33, 129], [33, 7, 1], [129, 65, 33], [64, 48, 300], [200, 1100, 20], [300, 40, 260],
  [40, 1100, 70], [17, 1, 9],
];

const names = availableBackends();

describe.each(names.map((n) => [n] as [BackendName]))('backend %s', (name) => {
  const be = createBackend(name);

  it.each(TRANSPOSES)('sgemm transA=%s transB=%s over odd sizes, padded lds, offsets', (ta, tb) => {
    SHAPES.forEach(([m, n, k], i) => checkCase(be, makeCase(ta, tb, m, n, k, 100 * i), `${m}x${n}x${k} ta=${ta} tb=${tb}`));
  });

  it.each(TRANSPOSES)('subarray views, minimal lds, transA=%s transB=%s', (ta, tb) => {
    checkCase(be, makeCase(ta, tb, 37, 45, 70, 7, { view: true, pad: 0 }), 'view');
  });

  it('alpha/beta: beta = 0 overwrites NaN garbage, beta = 1 accumulates, alpha = 0 and k = 0 scale C', () => {
    for (const [ta, tb] of TRANSPOSES) {
      checkCase(be, makeCase(ta, tb, 19, 40, 23, 1, { beta: 0, nanC: true }), 'beta=0 NaN C');
      checkCase(be, makeCase(ta, tb, 19, 40, 23, 2, { alpha: -2, beta: 1 }), 'beta=1');
    }
    const zeroAlpha = makeCase(false, false, 9, 10, 11, 3, { alpha: 0, beta: 2 });
    zeroAlpha.a.fill(NaN);  // A is not read when alpha = 0
    checkCase(be, zeroAlpha, 'alpha=0');
    checkCase(be, makeCase(false, true, 9, 10, 0, 4, { beta: 0.5 }), 'k=0');
    checkCase(be, makeCase(true, false, 9, 10, 0, 5, { beta: 0, nanC: true }), 'k=0 beta=0');
  });

  it('m = 0 or n = 0 is a no-op', () => {
    for (const [m, n] of [[0, 5], [5, 0], [0, 0]]) {
      const g = makeCase(false, false, m, n, 4, 6, { nanC: true });
      const before = Float32Array.from(g.c);
      run(be, g);
      expect(Array.from(g.c)).toEqual(Array.from(before));
    }
  });

  it.each(TRANSPOSES)('strided batched (incl. strideB = 0 broadcast, interleaved heads) transA=%s transB=%s', (ta, tb) => {
    const cases: { m: number; n: number; k: number; batch: number; bcastB: boolean; heads: boolean }[] = [
      { m: 13, n: 9, k: 21, batch: 5, bcastB: false, heads: false },
      { m: 13, n: 9, k: 21, batch: 4, bcastB: true, heads: false },
      { m: 128, n: 64, k: 128, batch: 6, bcastB: false, heads: false },  // attention-sized: split across the pool
      { m: 16, n: 8, k: 8, batch: 3, bcastB: false, heads: true },        // C heads interleaved in [m, batch·n]
    ];
    for (const t of cases) {
      const lda = (ta ? t.m : t.k) + 1, ldb = (tb ? t.k : t.n) + 2;
      const strideA = (ta ? t.k : t.m) * lda + 3, strideB = t.bcastB ? 0 : (tb ? t.n : t.k) * ldb + 1;
      const ldc = t.heads ? t.batch * t.n : t.n + 1, strideC = t.heads ? t.n : t.m * ldc + 2;
      const offA = 3, offB = 1, offC = 4;
      const a = randomArray(offA + t.batch * strideA, 11), b = randomArray(offB + (t.bcastB ? 1 : t.batch) * Math.max(strideB, (tb ? t.n : t.k) * ldb), 12);
      const c = randomArray(offC + (t.batch - 1) * strideC + t.m * ldc, 13);
      const want = Float64Array.from(c), tol = new Float64Array(c.length);
      for (let i = 0; i < t.batch; i++) {
        const one: Case = { ta, tb, m: t.m, n: t.n, k: t.k, alpha: 1.5, beta: 0.25, a, offA: offA + i * strideA, lda,
          b, offB: offB + i * strideB, ldb, c, offC: offC + i * strideC, ldc };
        const r = reference(one);
        for (let r0 = 0; r0 < t.m; r0++) {
          for (let j = 0; j < t.n; j++) {
            const o = one.offC + r0 * ldc + j;
            want[o] = r.want[o]!;
            tol[o] = r.tol[o]!;
          }
        }
      }
      be.sgemmStridedBatched(ta, tb, t.m, t.n, t.k, 1.5, a, offA, lda, strideA, b, offB, ldb, strideB, 0.25, c, offC, ldc, strideC, t.batch);
      expectClose(c, want, tol, `${name} batched ${JSON.stringify(t)}`);
    }
  });

  it('rejects bad arguments with a CircuitscopeError naming the argument', () => {
    const a = new Float32Array(12), b = new Float32Array(12), c = new Float32Array(12);
    const bad: [string, () => void][] = [
      ['m must be an integer', () => be.sgemm(false, false, 1.5, 2, 2, 1, a, 0, 2, b, 0, 2, 0, c, 0, 2)],
      ['n must be an integer', () => be.sgemm(false, false, 2, -1, 2, 1, a, 0, 2, b, 0, 2, 0, c, 0, 2)],
      ['lda=1 is less than the minimum 2', () => be.sgemm(false, false, 2, 2, 2, 1, a, 0, 1, b, 0, 2, 0, c, 0, 2)],
      ['ldb=2 is less than the minimum 3', () => be.sgemm(false, true, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 0, 2)],
      ['ldc=1 is less than the minimum 2', () => be.sgemm(false, false, 2, 2, 2, 1, a, 0, 2, b, 0, 2, 0, c, 0, 1)],
      ['A is too short', () => be.sgemm(false, false, 4, 2, 4, 1, a, 0, 4, b, 0, 2, 0, c, 0, 2)],
      ['C is too short', () => be.sgemm(false, false, 2, 2, 2, 1, a, 0, 2, b, 0, 2, 0, c, 9, 2)],
      ['offB=13 is past the end', () => be.sgemm(false, false, 2, 0, 2, 1, a, 0, 2, b, 13, 2, 0, c, 0, 2)],
      ['B must be a Float32Array', () => be.sgemm(false, false, 2, 2, 2, 1, a, 0, 2, [1, 2] as unknown as Float32Array, 0, 2, 0, c, 0, 2)],
      ['alpha must be a finite number', () => be.sgemm(false, false, 2, 2, 2, NaN, a, 0, 2, b, 0, 2, 0, c, 0, 2)],
      ['transA must be a boolean', () => be.sgemm(1 as unknown as boolean, false, 2, 2, 2, 1, a, 0, 2, b, 0, 2, 0, c, 0, 2)],
      ['A is too short', () => be.sgemmStridedBatched(false, false, 2, 2, 2, 1, a, 0, 2, 4, b, 0, 2, 0, 0, new Float32Array(40), 0, 2, 4, 4)],
      ['C matrices overlap', () => be.sgemmStridedBatched(false, false, 2, 2, 2, 1, a, 0, 2, 0, b, 0, 2, 0, 0, c, 0, 2, 0, 2)],
      ['C matrices overlap', () => be.sgemmStridedBatched(false, false, 2, 2, 2, 1, a, 0, 2, 0, b, 0, 2, 0, 0, c, 0, 2, 3, 2)],
      ['strideA must be an integer', () => be.sgemmStridedBatched(false, false, 2, 2, 2, 1, a, 0, 2, -4, b, 0, 2, 0, 0, c, 0, 2, 4, 2)],
    ];
    for (const [msg, fn] of bad) {
      expect(fn, msg).toThrow(CircuitscopeError);
      expect(fn, msg).toThrow(msg);
    }
    expect(() => be.setThreads(0)).toThrow(CircuitscopeError);
  });

  it('threads: getThreads ≥ 1 and setThreads round-trips on native backends', () => {
    const before = be.getThreads();
    expect(before).toBeGreaterThanOrEqual(1);
    if (name !== 'ts') {
      be.setThreads(1);
      expect(be.getThreads()).toBe(1);
      checkCase(be, makeCase(false, true, 300, 200, 50, 21), 'after setThreads(1)');
      be.setThreads(before);
      expect(be.getThreads()).toBe(before);
    }
    expect(be.info().name).toBe(name);
  });
});

// The portable kernel's other code paths (AVX2+FMA 6×16, generic 4×8), forced on this CPU.
describe.runIf(names.includes('portable'))('portable kernel ISA variants', () => {
  const addon = loadNative().addon!;  // (the body is still collected when skipped: no addon → no ISAs)
  const isas = ['avx512', 'avx2', 'generic'].filter((isa) => {
    if (!addon) return false;
    try {
      addon.setPortableIsa(isa);
      return true;
    } catch {
      return false;
    } finally {
      addon.setPortableIsa('best');
    }
  });

  it.each(isas.length ? isas : ['none'])('%s: all transposes, odd sizes, beta = 0 over NaN', (isa) => {
    const be = createBackend('portable');
    addon.setPortableIsa(isa);
    try {
      expect(addon.info().portableIsa).toBe(isa);
      for (const [ta, tb] of TRANSPOSES) {
        SHAPES.forEach(([m, n, k], i) => checkCase(be, makeCase(ta, tb, m, n, k, 7 * i), `${isa} ${m}x${n}x${k} ta=${ta} tb=${tb}`));
        checkCase(be, makeCase(ta, tb, 19, 40, 23, 1, { beta: 0, nanC: true, view: true }), `${isa} beta=0 NaN C`);
      }
    } finally {
      addon.setPortableIsa('best');
    }
  });
});

describe('native addon', () => {
  const native = loadNative();
  const required = process.env.CIRCUITSCOPE_REQUIRE_NATIVE === '1';

  it.skipIf(!required)('is loaded and linked with OpenBLAS (checked only when CIRCUITSCOPE_REQUIRE_NATIVE=1)', () => {
    expect(native.error).toBeUndefined();
    expect(native.addon?.info().openblas).toBe(true);
    expect(native.addon?.info().openblasConfig).toMatch(/OpenBLAS/);
    expect(availableBackends()).toEqual(['openblas', 'portable', 'ts']);
  });

  it.runIf(native.addon)('FMA peak probe returns a positive finite GFLOP/s; info describes the build', () => {
    const be = createBackend(availableBackends()[0]!);
    const g = be.peakGflops!(0.05, 1);
    expect(Number.isFinite(g) && g > 0).toBe(true);
    const info = native.addon!.info();
    expect(['avx512', 'avx2', 'generic']).toContain(info.portableIsa);
    expect(info.compiledWith.length).toBeGreaterThan(0);
  });

  it.runIf(native.addon)('the raw addon refuses out-of-bounds calls instead of crashing', () => {
    const a = new Float32Array(4);
    expect(() => native.addon!.sgemm(false, false, 4, 4, 4, 1, a, 0, 4, a, 0, 4, 0, a, 0, 4)).toThrow(/out of bounds/);
    expect(() => native.addon!.sgemm(false, false, -1, 4, 4, 1, a, 0, 4, a, 0, 4, 0, a, 0, 4)).toThrow(/integer/);
  });
});

describe('backend selection', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.doUnmock('../src/tensor/backend-native.js');
    vi.resetModules();
  });

  it('getBackend is a process-wide singleton', () => {
    expect(getBackend()).toBe(getBackend());
    expect(getBackend().name).toBe(availableBackends()[0]);
  });

  it('CIRCUITSCOPE_BACKEND forces a backend and rejects unknown names; CIRCUITSCOPE_THREADS is validated', async () => {
    vi.resetModules();
    process.env.CIRCUITSCOPE_BACKEND = 'ts';
    expect((await import('../src/tensor/backend-select.js')).getBackend().name).toBe('ts');
    vi.resetModules();
    process.env.CIRCUITSCOPE_BACKEND = 'cuda';
    const sel = await import('../src/tensor/backend-select.js');
    expect(() => sel.getBackend()).toThrow(/CIRCUITSCOPE_BACKEND='cuda'/);
    vi.resetModules();
    process.env.CIRCUITSCOPE_BACKEND = '';
    process.env.CIRCUITSCOPE_THREADS = 'lots';
    const sel2 = await import('../src/tensor/backend-select.js');
    expect(() => sel2.getBackend()).toThrow(/CIRCUITSCOPE_THREADS/);
  });

  it('falls back to TypeScript with exactly one warning line when the addon is missing', async () => {
    vi.resetModules();
    vi.doMock('../src/tensor/backend-native.js', () => ({
      loadNative: () => ({ error: 'test: addon missing' }),
      NativeBackend: class {},
    }));
    delete process.env.CIRCUITSCOPE_BACKEND;
    delete process.env.CIRCUITSCOPE_THREADS;
    // An earlier getBackend() in this process may already have warned (when the addon really is missing).
    delete (globalThis as Record<symbol, unknown>)[Symbol.for('circuitscope.tsFallbackWarned')];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const sel = await import('../src/tensor/backend-select.js');
      const be = sel.getBackend();
      expect(be.name).toBe('ts');
      expect(be.info().fallbackReason).toBe('test: addon missing');
      expect(() => sel.createBackend('openblas')).toThrow(/unavailable/);
      vi.resetModules();
      (await import('../src/tensor/backend-select.js')).getBackend();  // a second module instance: no second warning
      const lines = write.mock.calls.map((c) => String(c[0])).filter((s) => s.includes('pure-TypeScript fallback'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^circuitscope: native addon unavailable \(test: addon missing\); .*npm run build:native/);
    } finally {
      write.mockRestore();
    }
  });
});
