/** Forward values of every op against hand-computed numbers. */
import { describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { tensor, intTensor } from '../src/tensor/index.js';
import { withBackend } from '../src/tensor/backend-select.js';
import { expectClose } from './helpers.js';

const t = tensor;

describe('elementwise', () => {
  it('add/sub/mul/div broadcast as NumPy does', () => {
    const a = t([[1, 2, 3], [4, 5, 6]]);
    const b = t([10, 20, 30]);
    const c = t([[100], [200]]);
    expect(T.add(a, b).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(T.sub(a, c).toArray()).toEqual([[-99, -98, -97], [-196, -195, -194]]);
    expect(T.mul(b, c).toArray()).toEqual([[1000, 2000, 3000], [2000, 4000, 6000]]);
    expect(T.div(a, 2).toArray()).toEqual([[0.5, 1, 1.5], [2, 2.5, 3]]);
    expect(T.sub(1, a).toArray()).toEqual([[0, -1, -2], [-3, -4, -5]]);
    expect(T.add(t([[[1]], [[2]]]), t([[10, 20]])).shape).toEqual([2, 1, 2]);
    expect(T.add(t([[[1]], [[2]]]), t([[10, 20]])).toArray()).toEqual([[[11, 21]], [[12, 22]]]);
  });

  it('broadcasts with a middle size-1 axis', () => {
    // [2,1,3] + [1,2,1] → [2,2,3]
    const a = t([[[1, 2, 3]], [[4, 5, 6]]]);
    const b = t([[[10], [20]]]);
    expect(T.add(a, b).toArray()).toEqual([
      [[11, 12, 13], [21, 22, 23]],
      [[14, 15, 16], [24, 25, 26]],
    ]);
  });

  it('rejects shapes that do not broadcast', () => {
    expect(() => T.add(t([1, 2, 3]), t([1, 2]))).toThrow(/cannot be broadcast together/);
  });

  it('maximum propagates NaN and picks the larger value', () => {
    expectClose(T.maximum(t([1, 5, -2]), t([3, 4, -2])).data, [3, 5, -2]);
    expect(Number.isNaN(T.maximum(t([NaN]), t([1])).item())).toBe(true);
  });

  it('unary ops', () => {
    const x = t([-2, -0.5, 0, 0.5, 2]);
    expectClose(T.neg(x).data, [2, 0.5, -0, -0.5, -2]);
    expectClose(T.exp(x).data, [Math.exp(-2), Math.exp(-0.5), 1, Math.exp(0.5), Math.exp(2)], 1e-6);
    expectClose(T.log(t([1, Math.E, 10])).data, [0, 1, Math.log(10)], 1e-6);
    expectClose(T.sqrt(t([4, 9, 2])).data, [2, 3, Math.SQRT2], 1e-6);
    expectClose(T.rsqrt(t([4, 0.25])).data, [0.5, 2], 1e-6);
    expectClose(T.square(x).data, [4, 0.25, 0, 0.25, 4]);
    expectClose(T.abs(x).data, [2, 0.5, 0, 0.5, 2]);
    expectClose(T.relu(x).data, [0, 0, 0, 0.5, 2]);
    expectClose(T.tanh(x).data, x.data.map(Math.tanh), 1e-6);
    expectClose(T.sigmoid(x).data, x.data.map((v) => 1 / (1 + Math.exp(-v))), 1e-6);
    expectClose(T.pow(t([2, 3]), 3).data, [8, 27]);
  });

  it('gelu is the tanh form (HF gelu_new)', () => {
    // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), values worked out by hand for x = 1 and x = -1:
    // x = 1: u = 0.7978845608·1.044715 = 0.8335620, tanh(u) = 0.6823840, gelu = 0.5·1.6823840 = 0.8411920
    expectClose(T.gelu(t([1, -1, 0, 3])).data, [0.8411920, -0.1588080, 0, 2.9963627], 1e-6);
    withBackend('ts', () => expectClose(T.gelu(t([1, -1, 0, 3])).data, [0.8411920, -0.1588080, 0, 2.9963627], 1e-6));
  });
});

describe('reductions', () => {
  const x = t([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]); // [2,2,2]
  it('sum over axes, keepdim, all', () => {
    expect(T.sum(x).item()).toBe(36);
    expect(T.sum(x, 0).toArray()).toEqual([[6, 8], [10, 12]]);
    expect(T.sum(x, [0, 1]).toArray()).toEqual([16, 20]);
    expect(T.sum(x, [0, 2]).toArray()).toEqual([14, 22]);
    expect(T.sum(x, -1, true).shape).toEqual([2, 2, 1]);
    expect(T.sum(x, -1, true).toArray()).toEqual([[[3], [7]], [[11], [15]]]);
  });
  it('mean, max, min, argmax', () => {
    expect(T.mean(x, [1, 2]).toArray()).toEqual([2.5, 6.5]);
    expect(T.max(x, 1).toArray()).toEqual([[3, 4], [7, 8]]);
    expect(T.min(x, 2).toArray()).toEqual([[1, 3], [5, 7]]);
    expect(T.max(x).item()).toBe(8);
    expect(Array.from(T.argmax(t([[1, 9, 9], [7, 2, 3]])).data)).toEqual([1, 0]);
    expect(() => T.mean(T.zeros([2, 0]), 1)).toThrow(/empty axis/);
  });
  it('broadcastTo copies out along new and size-1 axes', () => {
    expect(T.broadcastTo(t([[1], [2]]), [2, 2, 3]).toArray()).toEqual([[[1, 1, 1], [2, 2, 2]], [[1, 1, 1], [2, 2, 2]]]);
    expect(() => T.broadcastTo(t([1, 2]), [3])).toThrow(/cannot be broadcast/);
  });
  it('sumToShape undoes broadcasting', () => {
    const g = T.ones([2, 3, 4]);
    expect(T.sumToShape(g, [4]).toArray()).toEqual([6, 6, 6, 6]);
    expect(T.sumToShape(g, [3, 1]).toArray()).toEqual([[8], [8], [8]]);
  });
});

describe('matmul', () => {
  const a = t([[1, 2, 3], [4, 5, 6]]); // [2,3]
  const b = t([[7, 8], [9, 10], [11, 12]]); // [3,2]
  it('2-D products with transposes', () => {
    expect(T.matmul(a, b).toArray()).toEqual([[58, 64], [139, 154]]);
    expect(T.matmul(b, a, { transA: true, transB: true }).toArray()).toEqual([[58, 139], [64, 154]]);
    expect(T.matmul(a, a, { transB: true }).toArray()).toEqual([[14, 32], [32, 77]]);
    expect(T.matmul(a, a, { transA: true }).toArray()).toEqual([[17, 22, 27], [22, 29, 36], [27, 36, 45]]);
  });
  it('vectors, batches and broadcast batches', () => {
    expect(T.matmul(t([1, 1]), a).toArray()).toEqual([5, 7, 9]);
    expect(T.matmul(a, t([1, 0, -1])).toArray()).toEqual([-2, -2]);
    const batch = T.stack([a, T.mul(a, 2)]); // [2,2,3]
    expect(T.matmul(batch, b).toArray()).toEqual([[[58, 64], [139, 154]], [[116, 128], [278, 308]]]);
    const bb = T.stack([b, b]); // [2,3,2]
    expect(T.matmul(a, bb).toArray()).toEqual([[[58, 64], [139, 154]], [[58, 64], [139, 154]]]);
    // [2,1,2,3] · [1,3,3,2] → [2,3,2,2]
    const A = batch.reshape(2, 1, 2, 3);
    const B = T.stack([b, T.mul(b, 0), T.neg(b)]).reshape(1, 3, 3, 2);
    const C = T.matmul(A, B);
    expect(C.shape).toEqual([2, 3, 2, 2]);
    expect(T.slice(T.slice(C, 0, 1, 2), 1, 2, 3).toArray()).toEqual([[[[-116, -128], [-278, -308]]]]);
    expect(() => T.matmul(a, a)).toThrow(/inner dimensions differ/);
  });
});

describe('nn ops', () => {
  it('softmax / logSoftmax along any axis', () => {
    const x = t([[1, 2, 3], [0, 0, 0]]);
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const z = e[0]! + e[1]! + e[2]!;
    expectClose(T.softmax(x).data, [e[0]! / z, e[1]! / z, e[2]! / z, 1 / 3, 1 / 3, 1 / 3], 1e-6);
    expectClose(T.logSoftmax(x).data, [-2 - Math.log(z), -1 - Math.log(z), -Math.log(z), -Math.log(3), -Math.log(3), -Math.log(3)], 1e-6);
    const s0 = T.softmax(x, 0);
    expectClose(s0.data, [1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(-3)), 1 / (1 + Math.E), 1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(3))], 1e-6);
    // masked (-inf) entries get probability 0
    expectClose(T.softmax(t([0, -Infinity, 0])).data, [0.5, 0, 0.5]);
  });
  it('layerNorm and rmsNorm', () => {
    const x = t([[1, 2, 3, 4]]);
    // mean 2.5, var 1.25
    const s = Math.sqrt(1.25 + 1e-5);
    expectClose(T.layerNorm(x, undefined, undefined, 1e-5).data, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], 1e-6);
    const w = t([1, 2, 3, 4]);
    const b = t([0, 1, 0, 1]);
    expectClose(T.layerNorm(x, w, b).data, [-1.5 / s, 1 - 1 / s, 1.5 / s, 1 + 6 / s], 1e-6);
    const r = Math.sqrt(7.5 + 1e-6); // mean(x²) = 30/4
    expectClose(T.rmsNorm(x, w).data, [1 / r, 4 / r, 9 / r, 16 / r], 1e-6);
    expect(() => T.layerNorm(x, t([1, 2]))).toThrow(/weight has shape \[2\]/);
  });
});

describe('losses', () => {
  it('mseLoss and crossEntropy on hand-made values', () => {
    expect(T.mseLoss(t([1, 2, 3]), t([1, 0, 6])).item()).toBeCloseTo((0 + 4 + 9) / 3, 6);
    // rows: logits [0, ln 2, 0] target 1 → −log(2/4); logits [1, 1, 1] target 2 → log 3
    const ce = T.crossEntropy(t([[0, Math.LN2, 0], [1, 1, 1]]), intTensor([1, 2], [2]));
    expect(ce.item()).toBeCloseTo((Math.log(2) + Math.log(3)) / 2, 6);
    expect(() => T.crossEntropy(t([[0, 1]]), intTensor([2], [1]))).toThrow(/outside the vocabulary/);
    expect(() => T.mseLoss(t([1, 2]), t([1]))).toThrow(/differ in shape/);
  });
});

describe('layout and indexing', () => {
  const x = t([[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]]); // [2,2,3]
  it('permute / transpose', () => {
    expect(T.permute(x, [2, 0, 1]).toArray()).toEqual([[[0, 3], [6, 9]], [[1, 4], [7, 10]], [[2, 5], [8, 11]]]);
    expect(T.transpose(t([[1, 2], [3, 4]])).toArray()).toEqual([[1, 3], [2, 4]]);
  });
  it('reshape is a view; slice, concat, stack, squeeze', () => {
    const r = x.reshape(4, -1);
    expect(r.shape).toEqual([4, 3]);
    expect(r.data).toBe(x.data);
    expect(T.slice(x, 2, 1).toArray()).toEqual([[[1, 2], [4, 5]], [[7, 8], [10, 11]]]);
    expect(T.slice(x, 0, -1).toArray()).toEqual([[[6, 7, 8], [9, 10, 11]]]);
    expect(T.concat([t([[1, 2]]), t([[3, 4], [5, 6]])], 0).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(T.concat([t([[1], [2]]), t([[3, 4], [5, 6]])], 1).toArray()).toEqual([[1, 3, 4], [2, 5, 6]]);
    expect(T.stack([t([1, 2]), t([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(T.squeeze(T.unsqueeze(t([1, 2]), 0)).shape).toEqual([2]);
    expect(T.flatten(x, 1).shape).toEqual([2, 6]);
    expect(() => x.reshape(5, -1)).toThrow(/cannot reshape/);
  });
  it('indexSelect, gather, where, topk', () => {
    const W = t([[0, 0.5], [1, 1.5], [2, 2.5]]);
    expect(T.indexSelect(W, 0, intTensor([2, 0, 2, 1], [2, 2])).toArray()).toEqual([[[2, 2.5], [0, 0.5]], [[2, 2.5], [1, 1.5]]]);
    expect(() => T.indexSelect(W, 0, [3])).toThrow(/index 3 is out of range/);
    const g = T.gather(t([[1, 2, 3], [4, 5, 6]]), 1, intTensor([2, 0, 1, 1], [2, 2]));
    expect(g.toArray()).toEqual([[3, 1], [5, 5]]);
    expect(T.where(t([1, 0, 1]), t([1, 2, 3]), t([[10], [20]])).toArray()).toEqual([[1, 10, 3], [1, 20, 3]]);
    const { values, indices } = T.topk(t([[3, 1, 4, 1, 5, 9, 2, 6], [0, 0, 0, 1, 0, 0, 0, 0]]), 3);
    expect(values.toArray()).toEqual([[9, 6, 5], [1, 0, 0]]);
    expect(Array.from(indices.data)).toEqual([5, 7, 4, 3, 0, 1]);
  });
});
