/**
 * Matrix products on the BLAS backend: `matmul` with torch.matmul semantics (batch dims broadcast) and
 * optional transposes of the last two dims, so that Aᵀ·B and A·Bᵀ never materialise a transpose.
 */
import { CircuitscopeError } from '../../util/errors.js';
import { getBackend } from '../backend-select.js';
import { type Shape, broadcastShapes, broadcastStrides, fmtShape, numel } from '../shape.js';
import { Tensor, record } from '../tensor.js';
import { sumToShape } from './reduce.js';

export interface MatmulOptions {
  /** Use the transpose of `a`'s last two dims. */
  transA?: boolean;
  /** Use the transpose of `b`'s last two dims. */
  transB?: boolean;
}

/** op(a) · op(b) over the last two dims; leading (batch) dims broadcast. 1-D operands are vectors. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  if (a.rank === 0 || b.rank === 0) throw new CircuitscopeError('matmul: both operands need at least one dimension');
  if (a.rank === 1 || b.rank === 1) {
    // Vectors: promote to matrices and squeeze the result, as torch.matmul does.
    const a2 = a.rank === 1 ? a.reshape(1, a.size) : a;
    const b2 = b.rank === 1 ? b.reshape(b.size, 1) : b;
    const r = matmul(a2, b2, { transA: a.rank === 1 ? false : !!opts.transA, transB: b.rank === 1 ? false : !!opts.transB });
    const shape = r.shape.slice();
    if (b.rank === 1) shape.pop();
    if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
    return r.reshape(shape);
  }
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  if (b.rank === 2 && a.rank > 2 && !transA) {
    // [..., m, k] · [k, n]: one GEMM over all rows (and one GEMM for the weight gradient).
    const k = a.shape[a.rank - 1]!;
    const r = matmulBatched(a.reshape(-1, k), b, false, transB);
    return r.reshape([...a.shape.slice(0, -1), r.shape[1]!]);
  }
  return matmulBatched(a, b, transA, transB);
}

function dims(t: Tensor, trans: boolean): [number, number] {
  const r = t.shape[t.rank - 2]!;
  const c = t.shape[t.rank - 1]!;
  return trans ? [c, r] : [r, c];
}

function matmulBatched(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const [m, k] = dims(a, transA);
  const [kb, n] = dims(b, transB);
  if (k !== kb) {
    throw new CircuitscopeError(
      `matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} (${k} vs ${kb})`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB, 'matmul');
  const out = new Float32Array(numel(batch) * m * n);
  gemmBroadcast(a.data, batchA, transA, b.data, batchB, transB, out, batch, m, n, k, a.shape[a.rank - 1]!, b.shape[b.rank - 1]!);
  const result = new Tensor(out, [...batch, m, n]);
  return record(result, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // d op(A) = G · op(B)ᵀ
      ga = transA ? matmulBatched(b, g, transB, true) : matmulBatched(g, b, false, !transB);
      ga = sumToShape(ga, a.shape);
    }
    if (b.requiresGrad) {
      // d op(B) = op(A)ᵀ · G
      gb = transB ? matmulBatched(g, a, true, transA) : matmulBatched(a, g, !transA, false);
      gb = sumToShape(gb, b.shape);
    }
    return [ga, gb];
  });
}

/** One sgemm per broadcast batch index; strided-batched when each operand is either full or shared. */
function gemmBroadcast(
  a: Float32Array, batchA: Shape, transA: boolean, b: Float32Array, batchB: Shape, transB: boolean,
  c: Float32Array, batch: Shape, m: number, n: number, k: number, lda: number, ldb: number,
): void {
  const be = getBackend();
  const nb = numel(batch);
  const sizeA = m * k;
  const sizeB = k * n;
  const sizeC = m * n;
  if (nb === 0 || sizeC === 0) return;
  const na = numel(batchA);
  const nbb = numel(batchB);
  if ((na === nb || na === 1) && (nbb === nb || nbb === 1)) {
    if (nb === 1) be.sgemm(transA, transB, m, n, k, 1, a, 0, lda, b, 0, ldb, 0, c, 0, n);
    else be.sgemmStridedBatched(transA, transB, m, n, k, 1, a, 0, lda, na === 1 ? 0 : sizeA, b, 0, ldb, nbb === 1 ? 0 : sizeB, 0, c, 0, n, sizeC, nb);
    return;
  }
  // Partial broadcast (e.g. [2,1,…] with [1,3,…]): walk the batch index.
  const sa = broadcastStrides(batchA, batch);
  const sb = broadcastStrides(batchB, batch);
  const idx = new Array<number>(batch.length).fill(0);
  for (let i = 0; i < nb; i++) {
    let oa = 0;
    let ob = 0;
    for (let d = 0; d < batch.length; d++) {
      oa += idx[d]! * sa[d]!;
      ob += idx[d]! * sb[d]!;
    }
    be.sgemm(transA, transB, m, n, k, 1, a, oa * sizeA, lda, b, ob * sizeB, ldb, 0, c, i * sizeC, n);
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
}

/**
 * y = x · W + b (W stored [in, out], as Hugging Face's Conv1D and TransformerLens's W_in store it), or
 * x · Wᵀ + b with `transW` (W stored [out, in], as torch.nn.Linear). The bias is written into the output
 * before one GEMM with beta = 1, so the affine map costs a single pass over y.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null, opts: { transW?: boolean } = {}): Tensor {
  const transW = !!opts.transW;
  if (w.rank !== 2) throw new CircuitscopeError(`linear: the weight must be 2-D, got ${fmtShape(w.shape)}`);
  const [kIn, nOut] = transW ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
  const k = x.shape[x.rank - 1];
  if (x.rank === 0 || k !== kIn) {
    throw new CircuitscopeError(`linear: input ${fmtShape(x.shape)} does not match weight ${fmtShape(w.shape)}${transW ? 'ᵀ' : ''} (needs last dim ${kIn})`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== nOut)) throw new CircuitscopeError(`linear: bias ${fmtShape(b.shape)} does not match ${nOut} outputs`);
  const m = x.size / kIn;
  const y = new Float32Array(m * nOut); // [rows, out]
  if (b) for (let r = 0; r < m; r++) y.set(b.data, r * nOut);
  getBackend().sgemm(false, transW, m, nOut, kIn, 1, x.data, 0, kIn, w.data, 0, Math.max(1, w.shape[1]!), b ? 1 : 0, y, 0, nOut);
  const out = new Tensor(y, [...x.shape.slice(0, -1), nOut]);
  const inputs = b ? [x, w, b] : [x, w];
  return record(out, 'linear', inputs, (g) => {
    const g2 = g.data; // [rows, out]
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    const be = getBackend();
    if (x.requiresGrad) {
      const d = new Float32Array(m * kIn); // dx = g · Wᵀ   [rows, in]
      be.sgemm(false, !transW, m, kIn, nOut, 1, g2, 0, nOut, w.data, 0, w.shape[1]!, 0, d, 0, kIn);
      gx = new Tensor(d, x.shape);
    }
    if (w.requiresGrad) {
      const d = new Float32Array(w.size);
      // dW = xᵀ · g  [in, out]   or, stored transposed, gᵀ · x  [out, in]
      if (transW) be.sgemm(true, false, nOut, kIn, m, 1, g2, 0, nOut, x.data, 0, kIn, 0, d, 0, kIn);
      else be.sgemm(true, false, kIn, nOut, m, 1, x.data, 0, kIn, g2, 0, nOut, 0, d, 0, nOut);
      gw = new Tensor(d, w.shape);
    }
    if (b?.requiresGrad) {
      const acc = new Float64Array(nOut);
      for (let r = 0; r < m; r++) for (let j = 0; j < nOut; j++) acc[j]! += g2[r * nOut + j]!;
      gb = new Tensor(Float32Array.from(acc), b.shape);
    }
    return b ? [gx, gw, gb] : [gx, gw];
  });
}
