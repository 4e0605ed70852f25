/** Indexing ops: indexSelect (embedding lookup), gather, where, topk. Indices are IntTensors. */
import { CircuitscopeError } from '../../util/errors.js';
import { broadcastBinary, binaryLoop } from '../kernels.js';
import { broadcastShapes, fmtShape, normAxis, numel, splitAt } from '../shape.js';
import { IntTensor, Tensor, record } from '../tensor.js';
import { sumToShape } from './reduce.js';

function toInt(idx: IntTensor | Int32Array | readonly number[]): IntTensor {
  if (idx instanceof IntTensor) return idx;
  const data = idx instanceof Int32Array ? idx : Int32Array.from(idx);
  return new IntTensor(data, [data.length]);
}

function checkIndex(i: number, n: number, op: string, axis: number): number {
  const j = i < 0 ? i + n : i;
  if (!(j >= 0 && j < n)) throw new CircuitscopeError(`${op}: index ${i} is out of range for axis ${axis} of size ${n}`);
  return j;
}

/**
 * Picks slices along `axis` by index: the result has x.shape with `axis` replaced by the index's shape
 * (so indexSelect(W_E [vocab, d], 0, tokens [batch, pos]) → [batch, pos, d]). Gradient: scatter-add.
 */
export function indexSelect(x: Tensor, axis: number, index: IntTensor | Int32Array | readonly number[]): Tensor {
  const ix = toInt(index);
  const ax = normAxis(axis, x.rank, 'indexSelect');
  const [outer, n, inner] = splitAt(x.shape, ax);
  const k = ix.size;
  const rows = Int32Array.from(ix.data, (i) => checkIndex(i, n, 'indexSelect', ax));
  const shape = [...x.shape.slice(0, ax), ...ix.shape, ...x.shape.slice(ax + 1)];
  const out = new Float32Array(outer * k * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const src = (o * n + rows[j]!) * inner;
      out.set(x.data.subarray(src, src + inner), (o * k + j) * inner);
    }
  }
  return record(new Tensor(out, shape), 'indexSelect', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const dst = (o * n + rows[j]!) * inner;
        const src = (o * k + j) * inner;
        for (let i = 0; i < inner; i++) gx[dst + i]! += g.data[src + i]!;
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`; index has out's shape. */
export function gather(x: Tensor, axis: number, index: IntTensor): Tensor {
  const ax = normAxis(axis, x.rank, 'gather');
  if (index.shape.length !== x.rank || index.shape.some((d, i) => i !== ax && d > x.shape[i]!)) {
    throw new CircuitscopeError(`gather: index shape ${fmtShape(index.shape)} does not fit input ${fmtShape(x.shape)} along axis ${ax}`);
  }
  const n = x.shape[ax]!;
  // x's strides for the outer dims can differ from the index's when index is smaller: walk multi-indices.
  const xStr = x.shape.map((_, i) => numel(x.shape.slice(i + 1)));
  const offsets = new Int32Array(index.size); // flat offset into x for each index element
  const dims = index.shape;
  const mi = new Array<number>(dims.length).fill(0);
  for (let e = 0; e < index.size; e++) {
    let off = 0;
    for (let d = 0; d < dims.length; d++) {
      off += (d === ax ? checkIndex(index.data[e]!, n, 'gather', ax) : mi[d]!) * xStr[d]!;
    }
    offsets[e] = off;
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++mi[d]! < dims[d]!) break;
      mi[d] = 0;
    }
  }
  const out = new Float32Array(index.size);
  for (let e = 0; e < out.length; e++) out[e] = x.data[offsets[e]!]!;
  return record(new Tensor(out, index.shape), 'gather', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let e = 0; e < out.length; e++) gx[offsets[e]!]! += g.data[e]!;
    return [new Tensor(gx, x.shape)];
  });
}

const selectLoop = binaryLoop('x !== 0 ? 1 : 0');
const copyLoop = binaryLoop('x');
const NONE = new Float32Array(1);

/** Elementwise cond ? a : b with broadcasting; cond is non-zero = true (a Tensor or IntTensor). */
export function where(cond: Tensor | IntTensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'where'), b.shape, 'where');
  const size = numel(shape);
  const c = new Float32Array(size); // [shape] 1 where cond
  const cf = cond instanceof IntTensor ? Float32Array.from(cond.data) : cond.data;
  broadcastBinary(selectLoop, c, shape, cf, cond.shape, NONE, []);
  const av = new Float32Array(size);
  const bv = new Float32Array(size);
  broadcastBinary(copyLoop, av, shape, a.data, a.shape, NONE, []);
  broadcastBinary(copyLoop, bv, shape, b.data, b.shape, NONE, []);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = c[i] ? av[i]! : bv[i]!;
  return record(new Tensor(out, shape), 'where', [a, b], (g) => {
    const ga = new Float32Array(size);
    const gb = new Float32Array(size);
    for (let i = 0; i < size; i++) (c[i] ? ga : gb)[i] = g.data[i]!;
    return [sumToShape(new Tensor(ga, shape), a.shape), sumToShape(new Tensor(gb, shape), b.shape)];
  });
}

/** The k largest entries along the last axis, in descending order (ties: lower index first). */
export function topk(x: Tensor, k: number): { values: Tensor; indices: IntTensor } {
  if (x.rank === 0) throw new CircuitscopeError('topk: needs at least one dimension');
  const n = x.shape[x.rank - 1]!;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new CircuitscopeError(`topk: k = ${k} must be an integer in [0, ${n}]`);
  const rows = n === 0 ? 0 : x.size / n;
  const idx = new Int32Array(rows * k);
  const vals = new Float32Array(rows * k);
  const heapV = new Float64Array(k);
  const heapI = new Int32Array(k);
  const order = new Int32Array(k);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let size = 0;
    // Min-heap of the best k seen so far; "worse" = smaller value, or equal value with larger index.
    const worse = (va: number, ia: number, vb: number, ib: number): boolean => va < vb || (va === vb && ia > ib);
    for (let j = 0; j < n; j++) {
      let v: number = x.data[base + j]!;
      if (v !== v) v = Infinity; // NaN ranks first, as in torch
      if (size < k) {
        let c = size++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!worse(v, j, heapV[p]!, heapI[p]!)) break;
          heapV[c] = heapV[p]!; heapI[c] = heapI[p]!; c = p;
        }
        heapV[c] = v; heapI[c] = j;
      } else if (k > 0 && worse(heapV[0]!, heapI[0]!, v, j)) {
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= k) break;
          const m = l + 1 < k && worse(heapV[l + 1]!, heapI[l + 1]!, heapV[l]!, heapI[l]!) ? l + 1 : l;
          if (!worse(heapV[m]!, heapI[m]!, v, j)) break;
          heapV[c] = heapV[m]!; heapI[c] = heapI[m]!; c = m;
        }
        heapV[c] = v; heapI[c] = j;
      }
    }
    for (let t = 0; t < k; t++) order[t] = t;
    order.sort((p, q) => (worse(heapV[p]!, heapI[p]!, heapV[q]!, heapI[q]!) ? 1 : -1));
    for (let t = 0; t < k; t++) {
      const j = heapI[order[t]!]!;
      idx[r * k + t] = j;
      vals[r * k + t] = x.data[base + j]!;
    }
  }
  const shape = [...x.shape.slice(0, -1), k];
  const values = record(new Tensor(vals, shape), 'topk', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let r = 0; r < rows; r++) for (let t = 0; t < k; t++) gx[r * n + idx[r * k + t]!]! += g.data[r * k + t]!;
    return [new Tensor(gx, x.shape)];
  });
  return { values, indices: new IntTensor(idx, shape) };
}
