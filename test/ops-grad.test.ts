/** Every op's gradient against central finite differences. */
import { describe, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { intTensor, tensor } from '../src/tensor/index.js';
import { withBackend } from '../src/tensor/backend-select.js';
import { gradcheck, pos, rnd } from './helpers.js';

const mm = (a: T.Tensor, b: T.Tensor): T.Tensor => T.matmul(a, b);

describe('elementwise gradients', () => {
  it('add/sub/mul/div with broadcasting both ways', () => {
    gradcheck(T.add, [rnd([3, 4], 1), rnd([4], 2)]);
    gradcheck(T.sub, [rnd([2, 1, 4], 3), rnd([3, 1], 4)]);
    gradcheck(T.mul, [rnd([3, 4], 5), rnd([3, 1], 6)]);
    gradcheck(T.div, [rnd([2, 3], 7), pos([3], 8)]);
    gradcheck((a) => T.div(2, a), [pos([5], 9)]);
    gradcheck((a) => T.mul(T.sub(a, 1), 3), [rnd([4], 10)]);
  });
  it('maximum', () => {
    const a = tensor([0.1, 2, -1, 0.7]);
    const b = tensor([[1, 0.5, 0, -3], [0.3, 3, -2, 1]]);
    gradcheck(T.maximum, [a, b]);
  });
  it('unary ops', () => {
    const x = rnd([3, 5], 11);
    for (const f of [T.neg, T.exp, T.square, T.tanh, T.sigmoid, T.gelu]) gradcheck(f, [x]);
    gradcheck(T.gelu, [tensor([-3, -2.2, -1.4, -0.6, 0.3, 1.1, 1.9, 2.7])]);
    for (const f of [T.log, T.sqrt, T.rsqrt]) gradcheck(f, [pos([3, 5], 12)]);
    // relu and abs: keep inputs away from the kink at 0
    const away = tensor([-1.5, -0.3, 0.2, 0.9, 2.5, -0.7]);
    gradcheck(T.relu, [away]);
    gradcheck(T.abs, [away]);
    gradcheck((a) => T.pow(a, 2.5), [pos([4], 13)]);
  });
  it('gelu on the pure-TypeScript path too (the addon has its own kernel)', () => {
    withBackend('ts', () => {
      gradcheck(T.gelu, [rnd([3, 5], 14)]);
      gradcheck(T.gelu, [tensor([-3, -2.2, -1.4, -0.6, 0.3, 1.1, 1.9, 2.7])]);
    });
  });
});

describe('reduction gradients', () => {
  it('sum / mean over axes', () => {
    const x = rnd([2, 3, 4], 20);
    gradcheck((a) => T.sum(a), [x]);
    gradcheck((a) => T.sum(a, [0, 2]), [x]);
    gradcheck((a) => T.sum(a, 1, true), [x]);
    gradcheck((a) => T.mean(a, [1, 2]), [x]);
    gradcheck((a) => T.mean(a, -1, true), [x]);
  });
  it('max / min', () => {
    const x = rnd([3, 4], 21);
    gradcheck((a) => T.max(a, 1), [x]);
    gradcheck((a) => T.min(a, 0, true), [x]);
    gradcheck((a) => T.max(a), [x]);
  });
  it('broadcastTo', () => {
    gradcheck((a) => T.broadcastTo(a, [2, 3, 4]), [rnd([3, 1], 22)]);
  });
});

describe('matmul gradients', () => {
  it('2-D with every transpose combination', () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = rnd(transA ? [4, 3] : [3, 4], 30);
        const b = rnd(transB ? [5, 4] : [4, 5], 31);
        gradcheck((x, y) => T.matmul(x, y, { transA, transB }), [a, b]);
      }
    }
  });
  it('batched, broadcast batch, rows-flattened and vectors', () => {
    gradcheck(mm, [rnd([2, 3, 4], 32), rnd([2, 4, 2], 33)]);
    gradcheck(mm, [rnd([2, 3, 4], 34), rnd([4, 2], 35)]);
    gradcheck(mm, [rnd([3, 4], 36), rnd([2, 4, 2], 37)]);
    gradcheck(mm, [rnd([2, 1, 2, 3], 38), rnd([1, 3, 3, 2], 39)]);
    gradcheck((x, y) => T.matmul(x, y, { transB: true }), [rnd([2, 3, 4], 40), rnd([2, 5, 4], 41)]);
    gradcheck((x, y) => T.matmul(x, y, { transA: true }), [rnd([2, 4, 3], 42), rnd([2, 4, 5], 43)]);
    gradcheck(mm, [rnd([4], 44), rnd([4, 3], 45)]);
    gradcheck(mm, [rnd([2, 4], 46), rnd([4], 47)]);
  });
});

describe('nn gradients', () => {
  it('softmax / logSoftmax along every axis', () => {
    const x = rnd([3, 4, 2], 50);
    for (const ax of [0, 1, -1]) {
      gradcheck((a) => T.softmax(a, ax), [x]);
      gradcheck((a) => T.logSoftmax(a, ax), [x]);
    }
  });
  it('layerNorm / rmsNorm with and without affine parameters', () => {
    const x = rnd([3, 6], 51);
    gradcheck((a, w, b) => T.layerNorm(a, w, b), [x, rnd([6], 52), rnd([6], 53)]);
    gradcheck((a) => T.layerNorm(a), [x]);
    gradcheck((a, w) => T.rmsNorm(a, w), [x, rnd([6], 54)]);
    gradcheck((a) => T.rmsNorm(a), [x]);
  });
  it('the same on the TypeScript backend (the addon has native row kernels)', () => {
    withBackend('ts', () => {
      const x = rnd([3, 6], 55);
      gradcheck((a) => T.softmax(a, -1), [x]);
      gradcheck((a, w, b) => T.layerNorm(a, w, b), [x, rnd([6], 56), rnd([6], 57)]);
      gradcheck((a, w) => T.rmsNorm(a, w), [x, rnd([6], 58)]);
    });
  });
  it('many rows (split across threads by the native kernels), with a masked softmax', () => {
    const x = rnd([192, 64], 59);
    gradcheck((a, w, b) => T.layerNorm(a, w, b), [x, rnd([64], 60), rnd([64], 61)]);
    gradcheck((a) => T.softmax(T.causalMask(a.reshape(3, 64, 64)), -1), [x]);
  });
});

describe('loss gradients', () => {
  it('mseLoss (both arguments) and crossEntropy', () => {
    gradcheck(T.mseLoss, [rnd([3, 4], 70), rnd([3, 4], 71)]);
    gradcheck((x) => T.crossEntropy(x, intTensor([0, 3, 2, 1, 1, 0], [2, 3])), [rnd([2, 3, 4], 72)]);
  });
});

describe('layout and indexing gradients', () => {
  const x = rnd([2, 3, 4], 60);
  it('reshape, permute, transpose, slice, concat, stack, squeeze', () => {
    gradcheck((a) => a.reshape(4, 6), [x]);
    gradcheck((a) => T.permute(a, [2, 0, 1]), [x]);
    gradcheck((a) => T.transpose(a, 0, 2), [x]);
    gradcheck((a) => T.slice(a, 1, 1, 3), [x]);
    gradcheck((a) => T.slice(a, 0, 1), [x]);
    gradcheck((a, b) => T.concat([a, b], 1), [x, rnd([2, 2, 4], 61)]);
    gradcheck((a, b) => T.stack([a, b], 2), [rnd([2, 3], 62), rnd([2, 3], 63)]);
    gradcheck((a) => T.squeeze(T.unsqueeze(a, 1), 1), [x]);
    gradcheck((a) => T.flatten(a, 0, 1), [x]);
  });
  it('indexSelect, gather, where, topk', () => {
    gradcheck((w) => T.indexSelect(w, 0, intTensor([2, 0, 2, 1], [2, 2])), [rnd([3, 4], 64)]);
    gradcheck((w) => T.indexSelect(w, 1, [3, 3, 0]), [rnd([2, 4], 65)]);
    gradcheck((a) => T.gather(a, 1, intTensor([2, 0, 0, 1, 1, 1], [2, 3])), [rnd([2, 4], 66)]);
    gradcheck((a, b) => T.where(tensor([1, 0, 1, 0]), a, b), [rnd([2, 4], 67), rnd([4], 68)]);
    gradcheck((a) => T.topk(a, 2).values, [tensor([[0.1, 0.9, -0.5, 0.4], [2, -1, 0.5, 1.2]])]);
  });
});
