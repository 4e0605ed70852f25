/**
 * Elementwise loops, generated once per op from a JavaScript expression so that each loop is monomorphic
 * (V8 inlines the arithmetic; a shared loop calling a callback would not be). Broadcasting is handled by
 * coalescing dimensions and running the generated inner loop over the longest contiguous run.
 */
import { type Shape, broadcastStrides } from './shape.js';

/** o[oo+i] = f(a[ao+i*sa], b[bo+i*sb]) for i < n. */
export type BinaryLoop = (
  o: Float32Array, oo: number, a: Float32Array, ao: number, sa: number, b: Float32Array, bo: number, sb: number, n: number,
) => void;
/** o[i] = f(x[i]) for i < n. */
export type UnaryLoop = (o: Float32Array, x: Float32Array, n: number) => void;
/** o[i] = f(g[i], x[i], y[i]) for i < n: a backward loop given the upstream gradient, input and output. */
export type GradLoop = (o: Float32Array, g: Float32Array, x: Float32Array, y: Float32Array, n: number) => void;

const cache = new Map<string, unknown>();

function compile<T>(key: string, params: string[], body: string): T {
  let fn = cache.get(key);
  if (!fn) {
    fn = new Function(...params, `"use strict";\n${body}`);
    cache.set(key, fn);
  }
  return fn as T;
}

/** A binary loop for an expression in `x` (from a) and `y` (from b). */
export function binaryLoop(expr: string): BinaryLoop {
  return compile<BinaryLoop>(`bin:${expr}`, ['o', 'oo', 'a', 'ao', 'sa', 'b', 'bo', 'sb', 'n'], `
    if (sa === 1 && sb === 1) { for (let i = 0; i < n; i++) { const x = a[ao + i], y = b[bo + i]; o[oo + i] = ${expr}; } }
    else if (sb === 0) { const y = b[bo]; for (let i = 0; i < n; i++) { const x = a[ao + i * sa]; o[oo + i] = ${expr}; } }
    else if (sa === 0) { const x = a[ao]; for (let i = 0; i < n; i++) { const y = b[bo + i * sb]; o[oo + i] = ${expr}; } }
    else { for (let i = 0; i < n; i++) { const x = a[ao + i * sa], y = b[bo + i * sb]; o[oo + i] = ${expr}; } }`);
}

/** A unary loop for an expression in `x`; `pre` may declare helper constants from x. */
export function unaryLoop(expr: string, pre = ''): UnaryLoop {
  return compile<UnaryLoop>(`un:${pre}:${expr}`, ['o', 'xs', 'n'], `
    for (let i = 0; i < n; i++) { const x = xs[i]; ${pre} o[i] = ${expr}; }`);
}

/** A backward loop for an expression in `g`, `x` (the op's input) and `y` (its output). */
export function gradLoop(expr: string, pre = ''): GradLoop {
  return compile<GradLoop>(`gr:${pre}:${expr}`, ['o', 'gs', 'xs', 'ys', 'n'], `
    for (let i = 0; i < n; i++) { const g = gs[i], x = xs[i], y = ys[i]; ${pre} o[i] = ${expr}; }`);
}

/**
 * Runs a binary loop over a broadcast: out (contiguous, shape `outShape`) from a and b broadcast to it.
 * Adjacent dimensions that are contiguous for every operand are merged so the inner loop is as long as possible.
 */
export function broadcastBinary(
  loop: BinaryLoop, out: Float32Array, outShape: Shape, a: Float32Array, aShape: Shape, b: Float32Array, bShape: Shape,
): void {
  if (out.length === 0) return;
  const sa0 = broadcastStrides(aShape, outShape);
  const sb0 = broadcastStrides(bShape, outShape);
  // Coalesce from the innermost dimension outwards.
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let i = outShape.length - 1; i >= 0; i--) {
    const d = outShape[i]!;
    if (d === 1) continue;
    const k = dims.length - 1;
    if (k >= 0 && sa0[i] === sa[k]! * dims[k]! && sb0[i] === sb[k]! * dims[k]!) {
      dims[k]! *= d;
    } else {
      dims.push(d);
      sa.push(sa0[i]!);
      sb.push(sb0[i]!);
    }
  }
  if (dims.length === 0) {
    loop(out, 0, a, 0, 0, b, 0, 0, 1);
    return;
  }
  const n = dims[0]!;
  const ia = sa[0]!;
  const ib = sb[0]!;
  const outer = out.length / n;
  if (outer === 1) {
    loop(out, 0, a, 0, ia, b, 0, ib, n);
    return;
  }
  // Odometer over the outer (coalesced) dimensions, innermost first.
  const r = dims.length;
  const idx = new Array<number>(r).fill(0);
  let ao = 0;
  let bo = 0;
  for (let row = 0; row < outer; row++) {
    loop(out, row * n, a, ao, ia, b, bo, ib, n);
    for (let k = 1; k < r; k++) {
      idx[k]!++;
      ao += sa[k]!;
      bo += sb[k]!;
      if (idx[k]! < dims[k]!) break;
      ao -= sa[k]! * dims[k]!;
      bo -= sb[k]! * dims[k]!;
      idx[k] = 0;
    }
  }
}
