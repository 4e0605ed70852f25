/** headScores / headMix (per-head GEMMs on [batch, pos, head, d_head]) against permute + matmul, and their gradients. */
import { describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { withBackend } from '../src/tensor/backend-select.js';
import { expectClose, gradcheck, rnd } from './helpers.js';

const toBhpd = (x: T.Tensor): T.Tensor => T.permute(x, [0, 2, 1, 3]);

describe('per-head attention products', () => {
  it('headScores = scale · q·kᵀ per (batch, head), with more keys than queries', () => {
    const q = rnd([2, 3, 4, 5], 1); // [batch, query, head, d_head]
    const k = rnd([2, 6, 4, 5], 2); // [batch, key, head, d_head]
    const s = T.headScores(q, k, 0.5);
    expect(s.shape).toEqual([2, 4, 3, 6]);
    expectClose(s.data, T.mul(T.matmul(toBhpd(q), toBhpd(k), { transB: true }), 0.5).data, 1e-5);
    // one entry by hand: batch 1, head 2, query 0, key 4
    let dot = 0;
    for (let j = 0; j < 5; j++) dot += q.get(1, 0, 2, j) * k.get(1, 4, 2, j);
    expect(s.get(1, 2, 0, 4)).toBeCloseTo(0.5 * dot, 5);
  });
  it('headMix = pattern · v per (batch, head), laid out [batch, query, head, d_head]', () => {
    const p = rnd([2, 4, 3, 6], 3); // [batch, head, query, key]
    const v = rnd([2, 6, 4, 5], 4); // [batch, key, head, d_head]
    const z = T.headMix(p, v);
    expect(z.shape).toEqual([2, 3, 4, 5]);
    expectClose(z.data, T.permute(T.matmul(p, toBhpd(v)), [0, 2, 1, 3]).data, 1e-5);
  });
  it('gradients for both operands, on the native and the TypeScript backends', () => {
    const run = (): void => {
      gradcheck((q, k) => T.headScores(q, k, 0.3), [rnd([2, 3, 2, 4], 5), rnd([2, 3, 2, 4], 6)]);
      gradcheck((p, v) => T.headMix(p, v), [rnd([2, 2, 3, 5], 7), rnd([2, 5, 2, 4], 8)]);
    };
    run();
    withBackend('ts', run);
  });
  it('rejects mismatched operands', () => {
    expect(() => T.headScores(rnd([1, 2, 3, 4], 1), rnd([1, 2, 2, 4], 2), 1)).toThrow(/differ in batch, heads or d_head/);
    expect(() => T.headMix(rnd([1, 3, 2, 2], 1), rnd([1, 5, 3, 4], 2))).toThrow(/does not match v/);
  });
});
