/** linear (fused bias GEMM) and causalMask: forward values by hand and gradients by finite differences. */
import { describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { tensor } from '../src/tensor/index.js';
import { withBackend } from '../src/tensor/backend-select.js';
import { expectClose, gradcheck, rnd } from './helpers.js';

describe('linear', () => {
  it('computes x·W + b and x·Wᵀ + b by hand', () => {
    const x = tensor([[1, 2], [3, 4]]); // [2, in=2]
    const w = tensor([[1, 0, -1], [2, 1, 0]]); // [in=2, out=3]
    const b = tensor([10, 20, 30]);
    expectClose(T.linear(x, w, b).data, [15, 22, 29, 21, 24, 27]);
    const wt = tensor([[1, 2], [0, 1], [-1, 0]]); // [out=3, in=2]
    expectClose(T.linear(x, wt, b, { transW: true }).data, [15, 22, 29, 21, 24, 27]);
    expectClose(T.linear(x, w).data, [5, 2, -1, 11, 4, -3]);
  });
  it('keeps leading dims and matches matmul + add', () => {
    const x = rnd([2, 3, 4], 1);
    const w = rnd([4, 5], 2);
    const b = rnd([5], 3);
    const y = T.linear(x, w, b);
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(y.data, T.add(T.matmul(x, w), b).data, 1e-6);
  });
  it('gradients for x, W and b, in both weight layouts and on the TypeScript backend', () => {
    gradcheck((x, w, b) => T.linear(x, w, b), [rnd([2, 3, 4], 4), rnd([4, 5], 5), rnd([5], 6)]);
    gradcheck((x, w, b) => T.linear(x, w, b, { transW: true }), [rnd([3, 4], 7), rnd([5, 4], 8), rnd([5], 9)]);
    gradcheck((x, w) => T.linear(x, w), [rnd([3, 4], 10), rnd([4, 2], 11)]);
    withBackend('ts', () => gradcheck((x, w, b) => T.linear(x, w, b), [rnd([3, 4], 12), rnd([4, 5], 13), rnd([5], 14)]));
  });
  it('rejects mismatched shapes with a clear message', () => {
    expect(() => T.linear(rnd([2, 3], 1), rnd([4, 5], 2))).toThrow(/does not match weight \[4, 5\]/);
    expect(() => T.linear(rnd([2, 4], 1), rnd([4, 5], 2), rnd([4], 3))).toThrow(/bias \[4\] does not match 5 outputs/);
  });
});

describe('causalMask', () => {
  it('fills the entries above the diagonal', () => {
    const y = T.causalMask(tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]));
    expect(Array.from(y.data)).toEqual([1, -Infinity, -Infinity, 4, 5, -Infinity, 7, 8, 9]);
  });
  it('aligns the last query with the last key when there are more keys than queries', () => {
    const y = T.causalMask(tensor([[1, 2, 3], [4, 5, 6]]), 0); // 2 queries over 3 keys
    expect(Array.from(y.data)).toEqual([1, 2, 0, 4, 5, 6]);
  });
  it('passes gradients only through unmasked entries', () => {
    gradcheck((x) => T.softmax(T.causalMask(x), -1), [rnd([2, 4, 4], 15)]);
    const x = rnd([3, 3], 16).requireGrad();
    T.sum(T.causalMask(x, 0)).backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 0, 0, 1, 1, 0, 1, 1, 1]);
  });
});
