/**
 * The compute backend behind every matmul: the native addon (OpenBLAS or its portable C++ kernel) or,
 * when no addon could be built, a pure-TypeScript fallback. All matrices are row-major Float32Arrays;
 * offsets and leading dimensions are in elements, exactly as in CBLAS with CblasRowMajor.
 */
export type BackendName = 'openblas' | 'portable' | 'ts';

export interface BackendInfo {
  name: BackendName;
  threads: number;
  /** e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH SkylakeX" or "portable blocked kernel (AVX2)" or "pure TypeScript". */
  detail: string;
  /** Why a faster backend is not in use, if it is not. */
  fallbackReason?: string;
}

/**
 * Native elementwise kernels (vectorised and threaded in the addon). Backends without them leave
 * `elementwise` undefined and the ops run their TypeScript loops instead.
 */
export interface ElementwiseKernels {
  /** y = GELU_tanh(x); arrays of equal length. */
  geluForward(x: Float32Array, y: Float32Array): void;
  /** dx = g · GELU_tanh'(x). */
  geluBackward(g: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** In-place Adam/AdamW update: g' = g + l2·w; m, v ← moments; w ← w·shrink − stepSize·m/(√v·invSqrtBc2 + eps). */
  adamUpdate(
    w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
    beta1: number, beta2: number, eps: number, l2: number, shrink: number, stepSize: number, invSqrtBc2: number,
  ): void;
  /**
   * LayerNorm (`center`) or RMSNorm over rows of length d: y = (x − mean)·rstd ⊙ w + b (w, b optional);
   * writes each row's mean (0 without centering) and rstd = 1/√(var + eps).
   */
  normForward(
    x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, d: number, eps: number, center: boolean,
  ): void;
  /** Gradients of normForward from its saved statistics; dx, dw, db null when not wanted (dw, db are overwritten). */
  normBackward(
    g: Float32Array, x: Float32Array, w: Float32Array | null, mean: Float32Array, rstd: Float32Array,
    dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, d: number, center: boolean,
  ): void;
  /** Softmax over consecutive rows of length n (−∞ entries give exactly 0). */
  softmaxForward(x: Float32Array, y: Float32Array, n: number): void;
  /** dx = y ⊙ (g − Σ g⊙y) per row of length n. */
  softmaxBackward(g: Float32Array, y: Float32Array, dx: Float32Array, n: number): void;
}

/** Argument lists of the two GEMM entry points, for implementations and wrappers. */
export type SgemmArgs = Parameters<Backend['sgemm']>;
export type SgemmBatchedArgs = Parameters<Backend['sgemmStridedBatched']>;

export interface Backend {
  readonly name: BackendName;
  /**
   * C = alpha · op(A) · op(B) + beta · C, op(X) = Xᵀ when trans is true. A is m×k after op, B k×n, C m×n.
   * BLAS semantics (see gemm-args.ts): m or n = 0 is a no-op; k = 0 or alpha = 0 gives C = beta·C
   * without reading A or B; beta = 0 overwrites C (NaN garbage in C never survives). Bad arguments
   * throw a CircuitscopeError.
   */
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, offA: number, lda: number,
    b: Float32Array, offB: number, ldb: number,
    beta: number, c: Float32Array, offC: number, ldc: number,
  ): void;
  /** `batch` independent sgemms; matrix i starts at off + i·stride in each of A, B, C. */
  sgemmStridedBatched(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, offA: number, lda: number, strideA: number,
    b: Float32Array, offB: number, ldb: number, strideB: number,
    beta: number, c: Float32Array, offC: number, ldc: number, strideC: number,
    batch: number,
  ): void;
  setThreads(n: number): void;
  getThreads(): number;
  info(): BackendInfo;
  /** Native elementwise kernels, when this backend has them. */
  readonly elementwise?: ElementwiseKernels;
  /**
   * Native backends only: measured peak single-precision GFLOP/s of an FMA-bound loop run for about
   * `seconds` on `threads` threads (default: the backend's thread count).
   */
  peakGflops?(seconds?: number, threads?: number): number;
}
