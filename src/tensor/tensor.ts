/**
 * Float32 tensors: a shape and a contiguous row-major Float32Array, plus the autograd node that made them.
 * Tensors are treated as immutable by every op; `reshape` (and slices along the first axis) share storage.
 */
import { CircuitscopeError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { backward as runBackward } from './autograd.js';
import { type Shape, fmtShape, numel, resolveReshape } from './shape.js';

/** How an op's output was made: its inputs and the vector-Jacobian product back to them. */
export interface GradNode {
  op: string;
  inputs: readonly Tensor[];
  /** Given d(root)/d(output), returns d(root)/d(input) for each input (null where not needed). */
  backward: (grad: Tensor) => (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording anything for autograd (inference, metrics, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with recording on (or off), whatever the caller's mode: for code that must differentiate. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = on;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export class Tensor {
  /** Contiguous row-major storage; length = product of shape. */
  readonly data: Float32Array;
  readonly shape: Shape;
  requiresGrad = false;
  /** d(root)/d(this) after `backward()`, for leaves that require grad and tensors marked with `retainGrad()`. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  node: GradNode | null = null;
  /** Set by `retainGrad()`: keep this intermediate tensor's gradient in `.grad`. */
  retainsGrad = false;
  /** Optional label (hook name, parameter name) used in error messages. */
  name: string | undefined;

  constructor(data: Float32Array, shape: Shape) {
    if (data.length !== numel(shape)) {
      throw new CircuitscopeError(`tensor: ${data.length} values cannot have shape ${fmtShape(shape)} (${numel(shape)} elements)`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) throw new CircuitscopeError(`item(): tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return this.data[0]!;
  }

  /** Value at a multi-index (negative indices count from the end). */
  get(...index: number[]): number {
    if (index.length !== this.rank) throw new CircuitscopeError(`get(): expected ${this.rank} indices for shape ${fmtShape(this.shape)}, got ${index.length}`);
    let off = 0;
    for (let i = 0; i < index.length; i++) {
      const d = this.shape[i]!;
      const ix = index[i]! < 0 ? index[i]! + d : index[i]!;
      if (ix < 0 || ix >= d) throw new CircuitscopeError(`get(): index ${index[i]} out of range for axis ${i} of size ${d}`);
      off = off * d + ix;
    }
    return this.data[off]!;
  }

  /** Nested JavaScript arrays (numbers for rank 0). */
  toArray(): unknown {
    const rec = (axis: number, off: number): unknown => {
      if (axis === this.rank) return this.data[off];
      const stride = numel(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis]! }, (_, i) => rec(axis + 1, off + i * stride));
    };
    return rec(0, 0);
  }

  /** A view with another shape over the same storage (one dimension may be -1). Differentiable. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    const target = Array.isArray(shape[0]) ? (shape[0] as number[]) : (shape as number[]);
    const to = resolveReshape(this.shape, target);
    const out = new Tensor(this.data, to);
    const from = this.shape;
    return record(out, 'reshape', [this], (g) => [g.reshape(from)]);
  }

  /** Marks this tensor as requiring gradients (a leaf parameter or an input to differentiate against). */
  requireGrad(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /** Keep this intermediate tensor's gradient in `.grad` when `backward()` runs. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** The same values, cut off from the autograd graph (shares storage). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy with its own storage (not recorded). */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Reverse-mode autograd from this scalar (or with an explicit seed gradient of this tensor's shape). */
  backward(seed?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    runBackward(this, seed, opts);
  }

  toString(): string {
    const head = Array.from(this.data.subarray(0, 8), (v) => v.toPrecision(4)).join(', ');
    return `Tensor(${fmtShape(this.shape)}, [${head}${this.size > 8 ? ', …' : ''}]${this.requiresGrad ? ', grad' : ''})`;
  }
}

/** Integer tensor for tokens and indices (gather, index, topk). Never differentiable. */
export class IntTensor {
  readonly data: Int32Array;
  readonly shape: Shape;
  constructor(data: Int32Array, shape: Shape) {
    if (data.length !== numel(shape)) {
      throw new CircuitscopeError(`int tensor: ${data.length} values cannot have shape ${fmtShape(shape)}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }
  get size(): number {
    return this.data.length;
  }
}

/**
 * Attaches an autograd node to `out` when grad mode is on and some input requires grad.
 * Every differentiable op ends with `return record(out, name, inputs, backwardFn)`.
 */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (!gradEnabled) return out;
  let needs = false;
  for (const t of inputs) if (t.requiresGrad) needs = true;
  if (!needs) return out;
  out.requiresGrad = true;
  out.node = { op, inputs, backward };
  return out;
}

// ---- creation -------------------------------------------------------------------------------

type Nested = number | readonly Nested[];

/** A tensor from a flat array plus shape, or from nested arrays. */
export function tensor(values: Nested | Float32Array | readonly number[], shape?: Shape): Tensor {
  if (values instanceof Float32Array) return new Tensor(values, shape ?? [values.length]);
  if (typeof values === 'number') return new Tensor(Float32Array.of(values), []);
  if (shape) return new Tensor(Float32Array.from(values as readonly number[]), shape);
  const dims: number[] = [];
  let v: Nested = values as Nested;
  while (Array.isArray(v)) {
    dims.push(v.length);
    v = (v as readonly Nested[])[0] as Nested;
  }
  const flat = (values as Nested[]).flat(Infinity as 1) as number[];
  return new Tensor(Float32Array.from(flat), dims);
}

export function scalar(v: number): Tensor {
  return new Tensor(Float32Array.of(v), []);
}

export function zeros(shape: Shape): Tensor {
  return new Tensor(new Float32Array(numel(shape)), shape);
}

export function full(shape: Shape, value: number): Tensor {
  return new Tensor(new Float32Array(numel(shape)).fill(value), shape);
}

export function ones(shape: Shape): Tensor {
  return full(shape, 1);
}

/** Standard normal values times `std`, from a seeded generator. */
export function randn(shape: Shape, rng: Rng = new Rng(0), std = 1): Tensor {
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
  return new Tensor(d, shape);
}

/** Uniform values in [lo, hi). */
export function rand(shape: Shape, rng: Rng = new Rng(0), lo = 0, hi = 1): Tensor {
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.uniform();
  return new Tensor(d, shape);
}

export function arange(n: number): Tensor {
  return new Tensor(Float32Array.from({ length: n }, (_, i) => i), [n]);
}

export function intTensor(values: Int32Array | readonly number[], shape?: Shape): IntTensor {
  const data = values instanceof Int32Array ? values : Int32Array.from(values);
  return new IntTensor(data, shape ?? [data.length]);
}
