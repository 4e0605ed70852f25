/** Timing helpers shared by `circuitscope doctor` and `npm run bench`: GEMM GFLOP/s on a backend. */
import { Rng } from '../util/rng.js';
import type { Backend } from './backend.js';

export interface GemmShape {
  /** C[m, n] = op(A)[m, k] · op(B)[k, n], repeated `batch` times (strided batched when batch > 1). */
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
  batch?: number;
}

export function gemmLabel(s: GemmShape): string {
  const core = `${s.m}×${s.k}×${s.n}${s.transA ? ' (Aᵀ·B)' : ''}${s.transB ? ' (A·Bᵀ)' : ''}`;
  return s.batch && s.batch > 1 ? `${s.batch}×(${core})` : core;
}

function randomArray(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform() - 0.5;
  return a;
}

/** Floating-point operations of one (batched) GEMM. */
export function gemmFlops(s: GemmShape): number {
  return 2 * (s.batch ?? 1) * s.m * s.n * s.k;
}

/**
 * Best-of-N GFLOP/s of one GEMM shape: repeats until `seconds` have passed and at least `minReps`
 * calls ran (after one warm-up call unless `warmup` is false), and reports the fastest call.
 * `{ warmup: false, maxReps: 1 }` times exactly one call, for shapes where a call takes seconds.
 */
export function measureGemm(
  be: Backend, s: GemmShape, opts: { seconds?: number; minReps?: number; maxReps?: number; warmup?: boolean } = {},
): number {
  const batch = s.batch ?? 1;
  const rng = new Rng(1);
  const a = randomArray(batch * s.m * s.k, rng); // [batch, m, k] (or [batch, k, m] when transA)
  const b = randomArray(batch * s.k * s.n, rng); // [batch, k, n] (or [batch, n, k] when transB)
  const c = new Float32Array(batch * s.m * s.n); // [batch, m, n]
  const lda = s.transA ? s.m : s.k;
  const ldb = s.transB ? s.k : s.n;
  const call = (): void => {
    if (batch === 1) be.sgemm(!!s.transA, !!s.transB, s.m, s.n, s.k, 1, a, 0, lda, b, 0, ldb, 0, c, 0, s.n);
    else be.sgemmStridedBatched(!!s.transA, !!s.transB, s.m, s.n, s.k, 1, a, 0, lda, s.m * s.k, b, 0, ldb, s.k * s.n, 0, c, 0, s.n, s.m * s.n, batch);
  };
  if (opts.warmup ?? true) call();
  const seconds = opts.seconds ?? 0.5;
  const minReps = Math.min(opts.minReps ?? 3, opts.maxReps ?? Infinity);
  const maxReps = opts.maxReps ?? 1000;
  let best = Infinity;
  const start = performance.now();
  for (let rep = 0; rep < maxReps; rep++) {
    const t0 = performance.now();
    call();
    best = Math.min(best, performance.now() - t0);
    if (rep + 1 >= minReps && performance.now() - start > seconds * 1000) break;
  }
  return gemmFlops(s) / (best / 1000) / 1e9;
}
