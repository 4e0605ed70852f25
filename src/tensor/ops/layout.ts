/** Layout ops: permute/transpose, slice, concat/stack, squeeze/unsqueeze. */
import { CircuitscopeError } from '../../util/errors.js';
import { type Shape, fmtShape, normAxis, numel, splitAt, stridesOf } from '../shape.js';
import { Tensor, record, zeros } from '../tensor.js';

/** Copies `x` with its axes reordered: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank) throw new CircuitscopeError(`permute: ${perm.length} axes given for a tensor of rank ${x.rank}`);
  const p = perm.map((a) => normAxis(a, x.rank, 'permute'));
  if (new Set(p).size !== p.length) throw new CircuitscopeError(`permute: [${perm.join(', ')}] repeats an axis`);
  const shape = p.map((a) => x.shape[a]!);
  const out = new Float32Array(x.size);
  permuteInto(x.data, x.shape, p, out);
  const inv = new Array<number>(p.length);
  p.forEach((a, i) => (inv[a] = i));
  return record(new Tensor(out, shape), 'permute', [x], (g) => [permute(g, inv)]);
}

function permuteInto(src: Float32Array, shape: Shape, perm: number[], out: Float32Array): void {
  if (out.length === 0) return;
  const inStrides = stridesOf(shape);
  const oShape = perm.map((a) => shape[a]!);
  const oStr = perm.map((a) => inStrides[a]!); // input stride for each output axis
  const r = oShape.length;
  if (r === 0) {
    out[0] = src[0]!;
    return;
  }
  const n = oShape[r - 1]!;
  const s = oStr[r - 1]!;
  const idx = new Array<number>(r).fill(0);
  let base = 0;
  for (let o = 0; o < out.length; o += n) {
    for (let j = 0; j < n; j++) out[o + j] = src[base + j * s]!;
    for (let d = r - 2; d >= 0; d--) {
      idx[d]!++;
      base += oStr[d]!;
      if (idx[d]! < oShape[d]!) break;
      base -= oStr[d]! * oShape[d]!;
      idx[d] = 0;
    }
  }
}

/** Swaps two axes (a copy). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  const i = normAxis(a, x.rank, 'transpose');
  const j = normAxis(b, x.rank, 'transpose');
  perm[i] = j;
  perm[j] = i;
  return permute(x, perm);
}

/** Elements start ≤ i < end along `axis` (negative bounds count from the end). Along axis 0 this is a view. */
export function slice(x: Tensor, axis: number, start: number, end?: number): Tensor {
  const ax = normAxis(axis, x.rank, 'slice');
  const d = x.shape[ax]!;
  const s = Math.max(0, Math.min(d, start < 0 ? start + d : start));
  const e = Math.max(s, Math.min(d, end === undefined ? d : end < 0 ? end + d : end));
  const [outer, , inner] = splitAt(x.shape, ax);
  const shape = x.shape.map((v, i) => (i === ax ? e - s : v));
  let data: Float32Array;
  if (outer === 1) data = x.data.subarray(s * inner, e * inner);
  else {
    data = new Float32Array(numel(shape));
    const len = (e - s) * inner;
    for (let o = 0; o < outer; o++) data.set(x.data.subarray((o * d + s) * inner, (o * d + s) * inner + len), o * len);
  }
  return record(new Tensor(data, shape), 'slice', [x], (g) => {
    const gx = zeros(x.shape);
    const len = (e - s) * inner;
    for (let o = 0; o < outer; o++) gx.data.set(g.data.subarray(o * len, (o + 1) * len), (o * d + s) * inner);
    return [gx];
  });
}

/** Joins tensors along `axis`; all other dims must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new CircuitscopeError('concat: no tensors given');
  const first = xs[0]!;
  const ax = normAxis(axis, first.rank, 'concat');
  for (const t of xs) {
    if (t.rank !== first.rank || t.shape.some((v, i) => i !== ax && v !== first.shape[i])) {
      throw new CircuitscopeError(`concat: shape ${fmtShape(t.shape)} does not match ${fmtShape(first.shape)} outside axis ${ax}`);
    }
  }
  const [outer, , inner] = splitAt(first.shape, ax);
  const total = xs.reduce((acc, t) => acc + t.shape[ax]!, 0);
  const shape = first.shape.map((v, i) => (i === ax ? total : v));
  const out = new Float32Array(numel(shape));
  const rowOut = total * inner;
  let off = 0;
  for (const t of xs) {
    const len = t.shape[ax]! * inner;
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * len, (o + 1) * len), o * rowOut + off);
    off += len;
  }
  return record(new Tensor(out, shape), 'concat', xs, (g) => {
    let at = 0;
    return xs.map((t) => {
      const n = t.shape[ax]!;
      const part = t.requiresGrad ? slice(g, ax, at, at + n) : null;
      at += n;
      return part;
    });
  });
}

/** Stacks same-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new CircuitscopeError('stack: no tensors given');
  const ax = axis < 0 ? axis + xs[0]!.rank + 1 : axis;
  return concat(xs.map((t) => unsqueeze(t, ax)), ax);
}

/** Inserts a size-1 axis at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.rank + 1, 'unsqueeze');
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return x.reshape(shape);
}

/** Removes size-1 axes (the given one, or all). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return x.reshape(x.shape.filter((d) => d !== 1));
  const ax = normAxis(axis, x.rank, 'squeeze');
  if (x.shape[ax] !== 1) throw new CircuitscopeError(`squeeze: axis ${axis} of ${fmtShape(x.shape)} has size ${x.shape[ax]}, not 1`);
  return x.reshape(x.shape.filter((_, i) => i !== ax));
}

/** Merges axes start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.rank === 0) return x.reshape(1);
  const s = normAxis(start, x.rank, 'flatten');
  const e = normAxis(end, x.rank, 'flatten');
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return x.reshape(shape);
}
