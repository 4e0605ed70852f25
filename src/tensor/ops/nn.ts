/** Fused neural-net ops along one axis: softmax, log_softmax, layer_norm, rms_norm. */
import { CircuitscopeError } from '../../util/errors.js';
import { fmtShape, normAxis, splitAt } from '../shape.js';
import { Tensor, record } from '../tensor.js';
import { getBackend } from '../backend-select.js';
import type { ElementwiseKernels } from '../backend.js';

/** Visits every 1-D lane along `axis`: lane j of (outer o, inner i) is data[(o*n + j)*inner + i]. */
function lanes(shape: readonly number[], axis: number, fn: (base: number, stride: number, n: number) => void): void {
  const [outer, n, inner] = splitAt(shape, axis);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) fn(o * n * inner + i, inner, n);
}

/** Largest element of one lane. */
function laneMax(xd: Float32Array, base: number, s: number, n: number): number {
  let mx = -Infinity;
  for (let j = 0; j < n; j++) mx = Math.max(mx, xd[base + j * s]!);
  return mx;
}

/** softmax along `axis` (default last). Rows of all -inf give NaN, as in PyTorch. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = normAxis(axis, x.rank, 'softmax');
  const ew = getBackend().elementwise;
  const n = x.shape[ax]!;
  if (ew && ax === x.rank - 1 && n > 0) {
    // Native row kernels (the attention pattern's hot path).
    const y = new Float32Array(x.size);
    ew.softmaxForward(x.data, y, n);
    return record(new Tensor(y, x.shape), 'softmax', [x], (g) => {
      const gx = new Float32Array(x.size);
      ew.softmaxBackward(g.data, y, gx, n);
      return [new Tensor(gx, x.shape)];
    });
  }
  const y = new Float32Array(x.size);
  const xd = x.data;
  lanes(x.shape, ax, (base, s, n) => {
    const mx = laneMax(xd, base, s, n);
    let z = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(xd[base + j * s]! - mx);
      y[base + j * s] = e;
      z += e;
    }
    for (let j = 0; j < n; j++) y[base + j * s]! /= z;
  });
  const out = new Tensor(y, x.shape);
  return record(out, 'softmax', [x], (g) => {
    // dx = y ⊙ (g − Σ g⊙y)
    const gx = new Float32Array(x.size);
    const gd = g.data;
    lanes(x.shape, ax, (base, s, n) => {
      let dot = 0;
      for (let j = 0; j < n; j++) dot += gd[base + j * s]! * y[base + j * s]!;
      for (let j = 0; j < n; j++) gx[base + j * s] = y[base + j * s]! * (gd[base + j * s]! - dot);
    });
    return [new Tensor(gx, x.shape)];
  });
}

/** log_softmax along `axis` (default last), computed stably as x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = normAxis(axis, x.rank, 'logSoftmax');
  const y = new Float32Array(x.size);
  const xd = x.data;
  lanes(x.shape, ax, (base, s, n) => {
    const mx = laneMax(xd, base, s, n);
    let z = 0;
    for (let j = 0; j < n; j++) z += Math.exp(xd[base + j * s]! - mx);
    const lse = mx + Math.log(z);
    for (let j = 0; j < n; j++) y[base + j * s] = xd[base + j * s]! - lse;
  });
  const out = new Tensor(y, x.shape);
  return record(out, 'logSoftmax', [x], (g) => {
    // dx = g − softmax · Σ g
    const gx = new Float32Array(x.size);
    const gd = g.data;
    lanes(x.shape, ax, (base, s, n) => {
      let gs = 0;
      for (let j = 0; j < n; j++) gs += gd[base + j * s]!;
      for (let j = 0; j < n; j++) gx[base + j * s] = gd[base + j * s]! - Math.exp(y[base + j * s]!) * gs;
    });
    return [new Tensor(gx, x.shape)];
  });
}

function checkParam(p: Tensor | undefined, d: number, what: string, x: Tensor): void {
  if (p && (p.rank !== 1 || p.shape[0] !== d)) {
    throw new CircuitscopeError(`${what} has shape ${fmtShape(p.shape)} but the input ${fmtShape(x.shape)} needs [${d}]`);
  }
}

/**
 * Normalises each row over the last dim: y = x̂ ⊙ w + b. With `center` (layer norm) x̂ = (x − mean)/√(var + eps);
 * without (RMS norm) x̂ = x/√(mean(x²) + eps). Saves x̂ and 1/σ per row for the backward pass.
 */
function normalize(x: Tensor, w: Tensor | undefined, b: Tensor | undefined, eps: number, center: boolean, op: string): Tensor {
  const d = x.shape[x.rank - 1] ?? 1;
  checkParam(w, d, `${op} weight`, x);
  checkParam(b, d, `${op} bias`, x);
  const ew = getBackend().elementwise;
  if (ew && d > 0) return normalizeNative(ew, x, w, b, eps, center, op, d);
  const rows = x.size / d;
  const xd = x.data;
  const xhat = new Float32Array(x.size); // [rows, d]
  const rstd = new Float32Array(rows); // [rows]
  const y = new Float32Array(x.size);
  const wd = w?.data;
  const bd = b?.data;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mu = 0;
    if (center) {
      for (let j = 0; j < d; j++) mu += xd[o + j]!;
      mu /= d;
    }
    let v = 0;
    for (let j = 0; j < d; j++) {
      const c = xd[o + j]! - mu;
      v += c * c;
    }
    const rs = 1 / Math.sqrt(v / d + eps);
    rstd[r] = rs;
    for (let j = 0; j < d; j++) {
      const h = (xd[o + j]! - mu) * rs;
      xhat[o + j] = h;
      y[o + j] = h * (wd ? wd[j]! : 1) + (bd ? bd[j]! : 0);
    }
  }
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return record(new Tensor(y, x.shape), op, inputs, (g) => {
    const gd = g.data;
    const gx = new Float32Array(x.size);
    const gw = w ? new Float64Array(d) : null;
    const gb = b ? new Float64Array(d) : null;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      // dx̂ = g ⊙ w;  dx = (dx̂ − mean(dx̂)·[center] − x̂·mean(dx̂ ⊙ x̂)) / σ
      let m1 = 0;
      let m2 = 0;
      for (let j = 0; j < d; j++) {
        const dh = gd[o + j]! * (wd ? wd[j]! : 1);
        m1 += dh;
        m2 += dh * xhat[o + j]!;
        if (gw) gw[j]! += gd[o + j]! * xhat[o + j]!;
        if (gb) gb[j]! += gd[o + j]!;
      }
      m1 = center ? m1 / d : 0;
      m2 /= d;
      const rs = rstd[r]!;
      for (let j = 0; j < d; j++) {
        const dh = gd[o + j]! * (wd ? wd[j]! : 1);
        gx[o + j] = (dh - m1 - xhat[o + j]! * m2) * rs;
      }
    }
    const grads: (Tensor | null)[] = [new Tensor(gx, x.shape)];
    if (gw) grads.push(new Tensor(Float32Array.from(gw), [d]));
    if (gb) grads.push(new Tensor(Float32Array.from(gb), [d]));
    return grads;
  });
}

/** `normalize` on the native row kernels: saves only the per-row mean and 1/σ, and recomputes x̂ in the backward pass. */
function normalizeNative(
  ew: ElementwiseKernels, x: Tensor, w: Tensor | undefined, b: Tensor | undefined, eps: number, center: boolean, op: string, d: number,
): Tensor {
  const rows = x.size / d;
  const y = new Float32Array(x.size);
  const mean = new Float32Array(rows); // [rows]
  const rstd = new Float32Array(rows); // [rows]
  ew.normForward(x.data, w?.data ?? null, b?.data ?? null, y, mean, rstd, d, eps, center);
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return record(new Tensor(y, x.shape), op, inputs, (g) => {
    const gx = x.requiresGrad ? new Float32Array(x.size) : null;
    const gw = w?.requiresGrad ? new Float32Array(d) : null;
    const gb = b?.requiresGrad ? new Float32Array(d) : null;
    ew.normBackward(g.data, x.data, w?.data ?? null, mean, rstd, gx, gw, gb, d, center);
    const grads: (Tensor | null)[] = [gx && new Tensor(gx, x.shape)];
    if (w) grads.push(gw && new Tensor(gw, [d]));
    if (b) grads.push(gb && new Tensor(gb, [d]));
    return grads;
  });
}

/** LayerNorm over the last dim (PyTorch semantics: biased variance, eps inside the root). */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  return normalize(x, weight, bias, eps, true, 'layerNorm');
}

/** RMSNorm over the last dim (Llama): x / √(mean(x²) + eps) ⊙ weight. */
export function rmsNorm(x: Tensor, weight?: Tensor, eps = 1e-6): Tensor {
  return normalize(x, weight, undefined, eps, false, 'rmsNorm');
}

/**
 * Causal mask over the last two dims [query, key]: entries with key > query + (nKey − nQuery) become
 * `value` (default −∞, as TransformerLens's hook_attn_scores shows them). Gradient: zero at masked entries.
 */
export function causalMask(x: Tensor, value = -Infinity): Tensor {
  if (x.rank < 2) throw new CircuitscopeError(`causalMask: needs [..., query, key], got ${fmtShape(x.shape)}`);
  const nq = x.shape[x.rank - 2]!;
  const nk = x.shape[x.rank - 1]!;
  const shift = nk - nq;
  const y = x.data.slice();
  const fill = (d: Float32Array, v: number): void => {
    for (let o = 0; o < d.length; o += nq * nk) {
      for (let i = 0; i < nq; i++) d.fill(v, o + i * nk + Math.max(0, i + shift + 1), o + (i + 1) * nk);
    }
  };
  fill(y, value);
  return record(new Tensor(y, x.shape), 'causalMask', [x], (g) => {
    const gx = g.data.slice();
    fill(gx, 0);
    return [new Tensor(gx, x.shape)];
  });
}
