/**
 * The one argument check shared by every backend (openblas, portable, ts): a bad call becomes a
 * CircuitscopeError naming the argument, never a segfault in the addon or silently wrong numbers.
 *
 * Semantics (CBLAS row-major, pinned here for all backends):
 * - m = 0, n = 0 or batch = 0: nothing is read or written.
 * - k = 0 or alpha = 0: C = beta·C and A, B are not read (so NaNs in them do not propagate).
 * - beta = 0: C is overwritten, never read — NaN/Inf garbage already in C does not survive.
 * - Leading dimensions must be ≥ max(1, stored row length) even when a matrix is empty (as in BLAS).
 * - Within one batched call the C matrices must not overlap each other (checked); C must not overlap
 *   A or B (not checked, as in BLAS).
 */
import { CircuitscopeError } from '../util/errors.js';

export interface GemmCall {
  op: 'sgemm' | 'sgemmStridedBatched';
  transA: boolean; transB: boolean;
  m: number; n: number; k: number;
  alpha: number; beta: number;
  a: Float32Array; offA: number; lda: number; strideA: number;
  b: Float32Array; offB: number; ldb: number; strideB: number;
  c: Float32Array; offC: number; ldc: number; strideC: number;
  batch: number;
}

function fail(op: string, message: string): never {
  throw new CircuitscopeError(`${op}: ${message}`);
}

function nonNegInt(op: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    fail(op, `${name} must be an integer ≥ 0, got ${String(v)}`);
  }
}

/**
 * Checks one operand: a rows×cols row-major matrix with leading dimension ld, repeated `batch` times
 * every `stride` elements starting at `off`, must lie inside `arr`.
 */
function checkMatrix(
  op: string, name: string, arr: unknown, off: number, ld: number, ldName: string, stride: number,
  rows: number, cols: number, colsWhy: string, batch: number,
): void {
  if (!(arr instanceof Float32Array)) fail(op, `${name} must be a Float32Array`);
  const minLd = Math.max(1, cols);
  if (ld < minLd) fail(op, `${ldName}=${ld} is less than the minimum ${minLd} (${colsWhy})`);
  if (off > arr.length) fail(op, `off${name}=${off} is past the end of ${name} (length ${arr.length})`);
  if (rows === 0 || cols === 0 || batch === 0) return;
  const last = (batch - 1) * stride;
  const end = off + last + (rows - 1) * ld + cols;
  if (end > arr.length) {
    const where = batch > 1 ? ` (batch ${batch}, stride${name}=${stride})` : '';
    fail(op, `${name} is too short: a ${rows}×${cols} matrix with ${ldName}=${ld} at off${name}=${off}${where} ` +
      `needs ${end} elements, ${name}.length is ${arr.length}`);
  }
}

/** True when two of the `batch` C matrices (m×n, leading dim ldc, `stride` apart) share an element. */
function batchOverlaps(m: number, n: number, ldc: number, stride: number, batch: number): boolean {
  if (batch < 2 || m === 0 || n === 0) return false;
  if (stride === 0) return true;
  for (let t = 1; t < batch; t++) {
    // Element (r,c) of matrix i meets (r',c') of matrix i+t iff (r-r')·ldc + (c-c') = t·stride with
    // |r-r'| < m, |c-c'| < n. Because ldc ≥ n only two row differences can work.
    const d = t * stride;
    const q = Math.floor(d / ldc), r = d - q * ldc;
    if ((q < m && r < n) || (q + 1 < m && ldc - r < n)) return true;
  }
  return false;
}

export function validateGemm(g: GemmCall): void {
  const { op } = g;
  if (typeof g.transA !== 'boolean') fail(op, 'transA must be a boolean');
  if (typeof g.transB !== 'boolean') fail(op, 'transB must be a boolean');
  // One call per argument (no temporary arrays: this runs before every GEMM).
  nonNegInt(op, 'm', g.m); nonNegInt(op, 'n', g.n); nonNegInt(op, 'k', g.k); nonNegInt(op, 'batch', g.batch);
  nonNegInt(op, 'offA', g.offA); nonNegInt(op, 'offB', g.offB); nonNegInt(op, 'offC', g.offC);
  nonNegInt(op, 'lda', g.lda); nonNegInt(op, 'ldb', g.ldb); nonNegInt(op, 'ldc', g.ldc);
  nonNegInt(op, 'strideA', g.strideA); nonNegInt(op, 'strideB', g.strideB); nonNegInt(op, 'strideC', g.strideC);
  if (typeof g.alpha !== 'number' || !Number.isFinite(g.alpha)) fail(op, `alpha must be a finite number, got ${String(g.alpha)}`);
  if (typeof g.beta !== 'number' || !Number.isFinite(g.beta)) fail(op, `beta must be a finite number, got ${String(g.beta)}`);
  const { m, n, k, batch } = g;
  checkMatrix(op, 'A', g.a, g.offA, g.lda, 'lda', g.strideA, g.transA ? k : m, g.transA ? m : k,
    g.transA ? 'm, since transA' : 'k, since not transA', batch);
  checkMatrix(op, 'B', g.b, g.offB, g.ldb, 'ldb', g.strideB, g.transB ? n : k, g.transB ? k : n,
    g.transB ? 'k, since transB' : 'n, since not transB', batch);
  checkMatrix(op, 'C', g.c, g.offC, g.ldc, 'ldc', g.strideC, m, n, 'n', batch);
  if (batchOverlaps(m, n, g.ldc, g.strideC, batch)) {
    fail(op, `the ${batch} C matrices overlap (strideC=${g.strideC}, ${m}×${n}, ldc=${g.ldc}); ` +
      'every batch entry needs its own output');
  }
}

/** Validates a single sgemm call (the Backend.sgemm argument order). */
export function validateSgemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, offA: number, lda: number, b: Float32Array, offB: number, ldb: number,
  beta: number, c: Float32Array, offC: number, ldc: number,
): void {
  validateGemm({
    op: 'sgemm', transA, transB, m, n, k, alpha, beta, a, offA, lda, strideA: 0, b, offB, ldb, strideB: 0,
    c, offC, ldc, strideC: 0, batch: 1,
  });
}

/** Validates a strided-batched call (the Backend.sgemmStridedBatched argument order). */
export function validateSgemmBatched(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, offA: number, lda: number, strideA: number,
  b: Float32Array, offB: number, ldb: number, strideB: number,
  beta: number, c: Float32Array, offC: number, ldc: number, strideC: number, batch: number,
): void {
  validateGemm({
    op: 'sgemmStridedBatched', transA, transB, m, n, k, alpha, beta, a, offA, lda, strideA, b, offB, ldb,
    strideB, c, offC, ldc, strideC, batch,
  });
}

/** Thread counts accepted by every backend's setThreads (and CIRCUITSCOPE_THREADS). */
export function validateThreads(n: unknown, what = 'setThreads'): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1024) {
    throw new CircuitscopeError(`${what}: thread count must be an integer in 1..1024, got ${String(n)}`);
  }
  return n;
}
