/** Reductions: sum, mean, max/min (with argmax for the gradient), argmax, and sumToShape for broadcasting. */
import { CircuitscopeError } from '../../util/errors.js';
import { type Shape, fmtShape, normAxes, normAxis, sameShape, splitAt } from '../shape.js';
import { IntTensor, Tensor, record } from '../tensor.js';
import { broadcastTo } from './broadcast.js';

/** Sum of [outer, n, inner] over n, accumulated in float64. */
function sumAxisRaw(x: Float32Array, outer: number, n: number, inner: number): Float32Array {
  const out = new Float32Array(outer * inner);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let acc = 0;
      const base = o * n;
      for (let j = 0; j < n; j++) acc += x[base + j]!;
      out[o] = acc;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let j = 0; j < n; j++) {
      const base = (o * n + j) * inner;
      for (let i = 0; i < inner; i++) acc[i]! += x[base + i]!;
    }
    out.set(acc, o * inner);
  }
  return out;
}

/** Sums `axes` (sorted) keeping them as size-1 dims; runs of adjacent axes are reduced in one pass. */
function sumKeep(data: Float32Array, shape: Shape, axes: number[]): { data: Float32Array; shape: number[] } {
  let cur = data;
  const s = [...shape];
  let i = axes.length - 1;
  while (i >= 0) {
    let j = i;
    while (j > 0 && axes[j - 1] === axes[j]! - 1) j--;
    const lo = axes[j]!;
    const hi = axes[i]!;
    let outer = 1;
    let n = 1;
    let inner = 1;
    for (let k = 0; k < lo; k++) outer *= s[k]!;
    for (let k = lo; k <= hi; k++) n *= s[k]!;
    for (let k = hi + 1; k < s.length; k++) inner *= s[k]!;
    cur = sumAxisRaw(cur, outer, n, inner);
    for (let k = lo; k <= hi; k++) s[k] = 1;
    i = j - 1;
  }
  return { data: cur, shape: s };
}

function dropAxes(shape: Shape, axes: number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(axes, x.rank, 'sum');
  const r = sumKeep(x.data, x.shape, ax);
  const out = new Tensor(r.data, keepdim ? r.shape : dropAxes(x.shape, ax));
  const keepShape = r.shape;
  return record(out, 'sum', [x], (g) => [broadcastTo(g.reshape(keepShape), x.shape)]);
}

/** Mean over `axes` (all when omitted). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(axes, x.rank, 'mean');
  let count = 1;
  for (const a of ax) count *= x.shape[a]!;
  if (count === 0) throw new CircuitscopeError(`mean: cannot average over an empty axis of ${fmtShape(x.shape)}`);
  const r = sumKeep(x.data, x.shape, ax);
  for (let i = 0; i < r.data.length; i++) r.data[i]! /= count;
  const out = new Tensor(r.data, keepdim ? r.shape : dropAxes(x.shape, ax));
  const keepShape = r.shape;
  // Scale the (small, reduced) gradient before spreading it: broadcastTo may return its input as is.
  return record(out, 'mean', [x], (g) => [broadcastTo(new Tensor(g.data.map((v) => v / count), keepShape), x.shape)]);
}

/** Reduces `g` (broadcast result) back to `shape` by summing the broadcast axes. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const r = sumKeep(g.data, g.shape, axes);
  return new Tensor(r.data, shape);
}

/** Index of the extreme value along [outer, n, inner] (first one on ties). */
function argExtreme(x: Float32Array, outer: number, n: number, inner: number, sign: 1 | -1): Int32Array {
  const idx = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = -Infinity;
      let bi = 0;
      for (let j = 0; j < n; j++) {
        const v = sign * x[base + j * inner]!;
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v;
          bi = j;
          if (Number.isNaN(v)) break;
        }
      }
      idx[o * inner + i] = bi;
    }
  }
  return idx;
}

function extreme(x: Tensor, axis: number | undefined, keepdim: boolean, sign: 1 | -1, op: string): Tensor {
  const flat = axis === undefined;
  const src = flat ? x.reshape(-1) : x;
  const ax = flat ? 0 : normAxis(axis, x.rank, op);
  const [outer, n, inner] = splitAt(src.shape, ax);
  if (n === 0) throw new CircuitscopeError(`${op}: cannot reduce over an empty axis of ${fmtShape(x.shape)}`);
  const idx = argExtreme(src.data, outer, n, inner, sign);
  const vals = new Float32Array(idx.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) vals[o * inner + i] = src.data[(o * n + idx[o * inner + i]!) * inner + i]!;
  }
  const keepShape = src.shape.map((d, i) => (i === ax ? 1 : d));
  const outShape = flat ? (keepdim ? x.shape.map(() => 1) : []) : keepdim ? keepShape : dropAxes(x.shape, [ax]);
  const out = new Tensor(vals, outShape);
  return record(out, op, [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) gx[(o * n + idx[o * inner + i]!) * inner + i] = g.data[o * inner + i]!;
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** Maximum along `axis` (over everything when omitted); the gradient goes to the first maximal entry. */
export function max(x: Tensor, axis?: number, keepdim = false): Tensor {
  return extreme(x, axis, keepdim, 1, 'max');
}

/** Minimum along `axis` (over everything when omitted). */
export function min(x: Tensor, axis?: number, keepdim = false): Tensor {
  return extreme(x, axis, keepdim, -1, 'min');
}

/** Index of the maximum along `axis` (first on ties). */
export function argmax(x: Tensor, axis = -1, keepdim = false): IntTensor {
  const ax = normAxis(axis, x.rank, 'argmax');
  const [outer, n, inner] = splitAt(x.shape, ax);
  if (n === 0) throw new CircuitscopeError(`argmax: cannot reduce over an empty axis of ${fmtShape(x.shape)}`);
  const idx = argExtreme(x.data, outer, n, inner, 1);
  return new IntTensor(idx, keepdim ? x.shape.map((d, i) => (i === ax ? 1 : d)) : dropAxes(x.shape, [ax]));
}
