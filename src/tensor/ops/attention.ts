/**
 * Attention's per-head products straight from the [batch, pos, head, d_head] layout that TransformerLens
 * hooks use, with strided-batched GEMMs over heads (leading dimension head·d_head), so q, k, v and z
 * are never permuted to [batch, head, pos, d_head] and back.
 */
import { CircuitscopeError } from '../../util/errors.js';
import { getBackend } from '../backend-select.js';
import { fmtShape } from '../shape.js';
import { Tensor, record } from '../tensor.js';

function dims4(t: Tensor, what: string): [number, number, number, number] {
  if (t.rank !== 4) throw new CircuitscopeError(`${what} must be [batch, pos, head, d_head], got ${fmtShape(t.shape)}`);
  return t.shape as unknown as [number, number, number, number];
}

/**
 * For each batch b and head h: C[b,h] (rows × cols) = alpha · op(X[b,·,h,·]) · op(Y[b,·,h,·]), where an
 * operand is either a [batch, pos, head, d] tensor (matrix pos × d, leading dim head·d) or a
 * [batch, head, rows, cols] tensor (contiguous matrices).
 */
interface HeadOperand {
  data: Float32Array;
  /** Elements between consecutive batches. */
  batchStride: number;
  /** Elements between consecutive heads. */
  headStride: number;
  ld: number;
  trans: boolean;
}

const bphd = (t: Float32Array, p: number, h: number, d: number, trans = false): HeadOperand => ({ data: t, batchStride: p * h * d, headStride: d, ld: h * d, trans });
const bhqk = (t: Float32Array, h: number, q: number, k: number, trans = false): HeadOperand => ({ data: t, batchStride: h * q * k, headStride: q * k, ld: k, trans });

function headGemm(b: number, h: number, m: number, n: number, k: number, alpha: number, A: HeadOperand, B: HeadOperand, C: HeadOperand): void {
  const be = getBackend();
  for (let i = 0; i < b; i++) {
    be.sgemmStridedBatched(
      A.trans, B.trans, m, n, k, alpha,
      A.data, i * A.batchStride, A.ld, A.headStride,
      B.data, i * B.batchStride, B.ld, B.headStride,
      0, C.data, i * C.batchStride, C.ld, C.headStride, h,
    );
  }
}

/** scores [batch, head, query, key] = scale · q·kᵀ per head, from q [batch, query, head, d_head] and k [batch, key, head, d_head]. */
export function headScores(q: Tensor, k: Tensor, scale: number): Tensor {
  const [b, nq, h, d] = dims4(q, 'headScores: q');
  const [bk, nk, hk, dk] = dims4(k, 'headScores: k');
  if (bk !== b || hk !== h || dk !== d) throw new CircuitscopeError(`headScores: q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} differ in batch, heads or d_head`);
  const out = new Float32Array(b * h * nq * nk); // [batch, head, query, key]
  headGemm(b, h, nq, nk, d, scale, bphd(q.data, nq, h, d), bphd(k.data, nk, h, d, true), bhqk(out, h, nq, nk));
  return record(new Tensor(out, [b, h, nq, nk]), 'headScores', [q, k], (g) => {
    let gq: Tensor | null = null;
    let gk: Tensor | null = null;
    if (q.requiresGrad) {
      const dq = new Float32Array(q.size); // dq[b,·,h,·] = scale · G[b,h] · k[b,·,h,·]
      headGemm(b, h, nq, d, nk, scale, bhqk(g.data, h, nq, nk), bphd(k.data, nk, h, d), bphd(dq, nq, h, d));
      gq = new Tensor(dq, q.shape);
    }
    if (k.requiresGrad) {
      const dkk = new Float32Array(k.size); // dk[b,·,h,·] = scale · G[b,h]ᵀ · q[b,·,h,·]
      headGemm(b, h, nk, d, nq, scale, bhqk(g.data, h, nq, nk, true), bphd(q.data, nq, h, d), bphd(dkk, nk, h, d));
      gk = new Tensor(dkk, k.shape);
    }
    return [gq, gk];
  });
}

/** z [batch, query, head, d_head] = pattern[b,h] · v[b,·,h,·], from pattern [batch, head, query, key] and v [batch, key, head, d_head]. */
export function headMix(pattern: Tensor, v: Tensor): Tensor {
  const [b, nk, h, d] = dims4(v, 'headMix: v');
  if (pattern.rank !== 4 || pattern.shape[0] !== b || pattern.shape[1] !== h || pattern.shape[3] !== nk) {
    throw new CircuitscopeError(`headMix: pattern ${fmtShape(pattern.shape)} does not match v ${fmtShape(v.shape)} (needs [${b}, ${h}, query, ${nk}])`);
  }
  const nq = pattern.shape[2]!;
  const out = new Float32Array(b * nq * h * d); // [batch, query, head, d_head]
  headGemm(b, h, nq, d, nk, 1, bhqk(pattern.data, h, nq, nk), bphd(v.data, nk, h, d), bphd(out, nq, h, d));
  return record(new Tensor(out, [b, nq, h, d]), 'headMix', [pattern, v], (g) => {
    let gp: Tensor | null = null;
    let gv: Tensor | null = null;
    if (pattern.requiresGrad) {
      const dp = new Float32Array(pattern.size); // dP[b,h] = G[b,·,h,·] · v[b,·,h,·]ᵀ
      headGemm(b, h, nq, nk, d, 1, bphd(g.data, nq, h, d), bphd(v.data, nk, h, d, true), bhqk(dp, h, nq, nk));
      gp = new Tensor(dp, pattern.shape);
    }
    if (v.requiresGrad) {
      const dv = new Float32Array(v.size); // dv[b,·,h,·] = P[b,h]ᵀ · G[b,·,h,·]
      headGemm(b, h, nk, d, nq, 1, bhqk(pattern.data, h, nq, nk, true), bphd(g.data, nq, h, d), bphd(dv, nk, h, d));
      gv = new Tensor(dv, v.shape);
    }
    return [gp, gv];
  });
}
