/** Test helpers: seeded random tensors and a finite-difference gradient check. */
import { expect } from 'vitest';
import { Rng } from '../src/util/rng.js';
import { CircuitscopeError } from '../src/util/errors.js';
import { Tensor, noGrad, randn } from '../src/tensor/index.js';

export function rnd(shape: number[], seed: number, std = 1): Tensor {
  return randn(shape, new Rng(seed), std);
}

/** Positive values in [lo, hi), for log/sqrt/div denominators. */
export function pos(shape: number[], seed: number, lo = 0.5, hi = 2): Tensor {
  const r = new Rng(seed);
  const t = randn(shape, r);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * r.uniform();
  return t;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e} (tol ${tol})`);
    }
  }
}

/**
 * Checks d/d(inputs) of L = Σ fn(inputs) ⊙ R (R a fixed random tensor) against central differences.
 * The loss is accumulated in float64 from fn's float32 output; errors are measured relative to the
 * gradient's max magnitude, which float32 forward passes allow to ~1e-3.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; tol?: number; seed?: number } = {}): void {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 5e-4;
  for (const x of inputs) {
    x.grad = null;
    x.requireGrad();
  }
  const out0 = fn(...inputs);
  const R = rnd([...out0.shape], opts.seed ?? 99);
  const lossOf = (o: Tensor): number => {
    let s = 0;
    for (let i = 0; i < o.size; i++) s += o.data[i]! * R.data[i]!;
    return s;
  };
  // Analytic: backward with seed R.
  out0.backward(R);
  inputs.forEach((x, k) => {
    const analytic = x.grad ? x.grad.data : new Float32Array(x.size);
    const numeric = new Float64Array(x.size);
    noGrad(() => {
      for (let i = 0; i < x.size; i++) {
        const orig = x.data[i]!;
        x.data[i] = orig + eps;
        const up = lossOf(fn(...inputs));
        x.data[i] = orig - eps;
        const down = lossOf(fn(...inputs));
        x.data[i] = orig;
        numeric[i] = (up - down) / (2 * eps);
      }
    });
    let scale = 1e-6;
    for (const v of numeric) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < x.size; i++) {
      const err = Math.abs(analytic[i]! - numeric[i]!) / scale;
      if (!(err <= tol)) {
        throw new Error(`input ${k}, element ${i}: analytic ${analytic[i]} vs numeric ${numeric[i]} (relative error ${err.toExponential(2)} > ${tol})`);
      }
    }
  });
}

/** The CircuitscopeError `f` throws (fails the test when it throws nothing or another error type). */
export function errorOf(f: () => unknown): CircuitscopeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CircuitscopeError);
    return e as CircuitscopeError;
  }
  throw new Error('expected a CircuitscopeError');
}
