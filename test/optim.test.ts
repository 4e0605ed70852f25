/** Adam / AdamW against values from PyTorch 1.13 (torch.optim.Adam / AdamW, same hyper-parameters). */
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, tensor, type Tensor } from '../src/tensor/index.js';
import { withBackend } from '../src/tensor/backend-select.js';
import { expectClose } from './helpers.js';

function run(opt: Adam, p: Tensor): Float32Array {
  // three steps, gradients [0.5, -1, 2]·(t+1), learning rate changed every step
  [0.1, 0.05, 0.02].forEach((lr, t) => {
    p.grad = tensor([0.5 * (t + 1), -1 * (t + 1), 2 * (t + 1)]);
    opt.step(lr);
  });
  return p.data;
}

describe('Adam / AdamW', () => {
  it('first step moves every coordinate by lr (bias-corrected m̂/√v̂ = ±1)', () => {
    const p = tensor([1, -2]);
    const opt = new Adam([p], { lr: 0.1 });
    p.grad = tensor([0.5, -3]);
    opt.step();
    expectClose(p.data, [0.9, -1.9], 1e-6);
  });

  it('Adam with L2 weight decay matches torch.optim.Adam', () => {
    const p = tensor([1, -2, 0.5]);
    const opt = new Adam([p], { betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 });
    expectClose(run(opt, p), [0.832000971, -1.83203006, 0.332586974], 1e-6);
  });

  it('AdamW (decoupled weight decay) matches torch.optim.AdamW', () => {
    const p = tensor([1, -2, 0.5]);
    const opt = new AdamW([p], { betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 });
    expectClose(run(opt, p), [0.816570818, -1.79965079, 0.325030923], 1e-6);
  });

  it('the pure-TypeScript update matches PyTorch as well (the addon has its own kernel)', () => {
    withBackend('ts', () => {
      const p = tensor([1, -2, 0.5]);
      const opt = new AdamW([p], { betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 });
      expectClose(run(opt, p), [0.816570818, -1.79965079, 0.325030923], 1e-6);
    });
  });

  it('state round-trips so a resumed optimiser continues identically', () => {
    const p1 = tensor([1, -2, 0.5]);
    const a = new AdamW([p1], { weightDecay: 0.1 });
    const p2 = tensor([1, -2, 0.5]);
    const b = new AdamW([p2], { weightDecay: 0.1 });
    p1.grad = tensor([1, 2, 3]);
    a.step(0.1);
    p2.data.set(p1.data);
    b.loadState(a.state());
    for (const [opt, p] of [[a, p1], [b, p2]] as const) {
      p.grad = tensor([-1, 0.5, 2]);
      opt.step(0.05);
    }
    expect(Array.from(p2.data)).toEqual(Array.from(p1.data));
    expect(() => b.loadState({ step: 1, m: [new Float32Array(2)], v: [new Float32Array(2)] })).toThrow(/does not match/);
  });
});
