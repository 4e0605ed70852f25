/**
 * Pure-TypeScript GEMM backend: the fallback when the native addon could not be built. A small
 * Goto-style blocked GEMM: op(A) and op(B) blocks are packed (reading along each operand's
 * contiguous direction for its transpose) into float64 panels, then a 4×4 register-tiled kernel
 * accumulates in float64. A few GFLOP/s; single-threaded.
 */
import type { Backend, BackendInfo, SgemmArgs, SgemmBatchedArgs } from './backend.js';
import { validateSgemm, validateSgemmBatched, validateThreads } from './gemm-args.js';

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 512;

/** Packed op(A) block: [MC/MR slivers][KC][MR]; packed op(B) panel: [NC/NR slivers][KC][NR]. */
const packA = new Float64Array(MC * KC);
const packB = new Float64Array(KC * NC);

/** C[m,n] (row stride ldc, from offC) = beta·C, with beta = 0 overwriting whatever was there. */
function scaleC(m: number, n: number, beta: number, c: Float32Array, offC: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = offC + i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else for (let j = row; j < row + n; j++) c[j] = beta * c[j]!;
  }
}

/** Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row slivers, zero-padding rows past mc. */
function packABlock(
  transA: boolean, a: Float32Array, offA: number, lda: number, i0: number, mc: number, p0: number, kc: number,
): void {
  for (let s = 0; s < mc; s += MR) {
    const base = s * kc;
    const rows = Math.min(MR, mc - s);
    if (!transA) {
      // A stored [m,k]: walk each row along p (contiguous).
      for (let r = 0; r < MR; r++) {
        if (r >= rows) {
          for (let p = 0; p < kc; p++) packA[base + p * MR + r] = 0;
          continue;
        }
        const src = offA + (i0 + s + r) * lda + p0;
        for (let p = 0; p < kc; p++) packA[base + p * MR + r] = a[src + p]!;
      }
    } else {
      // A stored [k,m]: storage row p holds op(A)[:, p]; walk it along i (contiguous).
      for (let p = 0; p < kc; p++) {
        const src = offA + (p0 + p) * lda + i0 + s;
        const dst = base + p * MR;
        for (let r = 0; r < MR; r++) packA[dst + r] = r < rows ? a[src + r]! : 0;
      }
    }
  }
}

/** Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column slivers, zero-padding columns past nc. */
function packBPanel(
  transB: boolean, b: Float32Array, offB: number, ldb: number, p0: number, kc: number, j0: number, nc: number,
): void {
  for (let s = 0; s < nc; s += NR) {
    const base = s * kc;
    const cols = Math.min(NR, nc - s);
    if (!transB) {
      // B stored [k,n]: row p is contiguous along j.
      for (let p = 0; p < kc; p++) {
        const src = offB + (p0 + p) * ldb + j0 + s;
        const dst = base + p * NR;
        for (let q = 0; q < NR; q++) packB[dst + q] = q < cols ? b[src + q]! : 0;
      }
    } else {
      // B stored [n,k]: column j of op(B) is storage row j, contiguous along p.
      for (let q = 0; q < NR; q++) {
        if (q >= cols) {
          for (let p = 0; p < kc; p++) packB[base + p * NR + q] = 0;
          continue;
        }
        const src = offB + (j0 + s + q) * ldb + p0;
        for (let p = 0; p < kc; p++) packB[base + p * NR + q] = b[src + p]!;
      }
    }
  }
}

/** C[rows,cols] += alpha · (packed A sliver [kc][4])ᵀ · (packed B sliver [kc][4]). */
function kernel4x4(
  kc: number, aBase: number, bBase: number, alpha: number,
  c: Float32Array, cOff: number, ldc: number, rows: number, cols: number,
): void {
  const pa = packA, pb = packB;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0, ai = aBase, bi = bBase; p < kc; p++, ai += 4, bi += 4) {
    const a0 = pa[ai]!, a1 = pa[ai + 1]!, a2 = pa[ai + 2]!, a3 = pa[ai + 3]!;
    const b0 = pb[bi]!, b1 = pb[bi + 1]!, b2 = pb[bi + 2]!, b3 = pb[bi + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (rows === 4 && cols === 4) {
    let o = cOff;
    c[o] += alpha * c00; c[o + 1] += alpha * c01; c[o + 2] += alpha * c02; c[o + 3] += alpha * c03; o += ldc;
    c[o] += alpha * c10; c[o + 1] += alpha * c11; c[o + 2] += alpha * c12; c[o + 3] += alpha * c13; o += ldc;
    c[o] += alpha * c20; c[o + 1] += alpha * c21; c[o + 2] += alpha * c22; c[o + 3] += alpha * c23; o += ldc;
    c[o] += alpha * c30; c[o + 1] += alpha * c31; c[o + 2] += alpha * c32; c[o + 3] += alpha * c33;
    return;
  }
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) c[cOff + r * ldc + q] += alpha * t[r * 4 + q]!;
  }
}

/** The unchecked GEMM (arguments already validated). */
export function sgemmTs(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, offA: number, lda: number, b: Float32Array, offB: number, ldb: number,
  beta: number, c: Float32Array, offC: number, ldc: number,
): void {
  if (m === 0 || n === 0) return;
  scaleC(m, n, beta, c, offC, ldc);
  if (k === 0 || alpha === 0) return;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packBPanel(transB, b, offB, ldb, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packABlock(transA, a, offA, lda, ic, mc, pc, kc);
        for (let ir = 0; ir < mc; ir += MR) {
          const rows = Math.min(MR, mc - ir);
          for (let jr = 0; jr < nc; jr += NR) {
            kernel4x4(kc, ir * kc, jr * kc, alpha, c, offC + (ic + ir) * ldc + jc + jr, ldc, rows, Math.min(NR, nc - jr));
          }
        }
      }
    }
  }
}

export class TsBackend implements Backend {
  readonly name = 'ts' as const;
  private readonly fallbackReason: string | undefined;

  constructor(fallbackReason?: string) {
    this.fallbackReason = fallbackReason;
  }

  sgemm(...args: SgemmArgs): void {
    validateSgemm(...args);
    sgemmTs(...args);
  }

  sgemmStridedBatched(...args: SgemmBatchedArgs): void {
    validateSgemmBatched(...args);
    const [transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB, beta, c, offC, ldc, strideC, batch] = args;
    for (let i = 0; i < batch; i++) {
      sgemmTs(transA, transB, m, n, k, alpha, a, offA + i * strideA, lda, b, offB + i * strideB, ldb,
        beta, c, offC + i * strideC, ldc);
    }
  }

  /** Single-threaded: a valid count is accepted and ignored. */
  setThreads(n: number): void {
    validateThreads(n);
  }

  getThreads(): number {
    return 1;
  }

  info(): BackendInfo {
    const info: BackendInfo = { name: 'ts', threads: 1, detail: 'pure TypeScript (blocked, float64 accumulation)' };
    if (this.fallbackReason) info.fallbackReason = this.fallbackReason;
    return info;
  }
}
