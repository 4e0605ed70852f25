/**
 * What induction-2l's duplicate-token head 0.0 contributes. The task's corruption replaces the first copy,
 * so 0.0 changes from "found an earlier occurrence" to "attends to itself". Reversing the first copy
 * instead keeps every token repeated (0.0 still finds an earlier occurrence of the same token) and makes
 * every successor wrong: 0.0's output then differs between the runs only in *where* the occurrence is.
 * Patching it alone still costs most of the effect, so 1.1 uses that position, not only the token.
 */
import { describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { IntTensor } from '../src/tensor/index.js';
import { exactNode } from '../src/discovery/index.js';
import { makeTask, type Task } from '../src/tasks/index.js';
import { loadZooModel } from '../src/zoo/index.js';

describe('induction-2l mechanism', () => {
  it('patching the duplicate-token head 0.0 from a reversed first copy costs most of the effect', async () => {
    const { model } = await loadZooModel('induction-2l');
    const L = 10;
    const P = 5;
    const task = makeTask('induction', model, { n: 50, seed: 2, length: L, prefix: P });
    const [n, pos] = task.clean.shape as [number, number]; // [50, 1 + 5 + 2·10]
    const rev = new Int32Array(task.clean.data);
    for (let i = 0; i < n; i++) for (let t = 0; t < L; t++) rev[i * pos + 1 + P + t] = task.clean.data[i * pos + 1 + P + L - 1 - t]!;
    const reversed: Task = { ...task, metric: task.metric, correct: task.correct, corrupt: new IntTensor(rev, [n, pos]) };
    const mean = (tokens: IntTensor): number => T.noGrad(() => T.mean(reversed.metric(model.forward(tokens))).item());
    const whole = mean(reversed.clean) - mean(reversed.corrupt);
    expect(whole).toBeGreaterThan(5); // log-prob of the right next token: ≈ −0.16 clean, ≈ −6.5 reversed
    const share = Object.fromEntries(Object.entries(exactNode.discover(model, reversed, { ablation: 'corrupted', seed: 2 }).nodes).map(([h, d]) => [h, d / whole]));
    expect(share['0.0']).toBeGreaterThan(0.7); // measured 0.86
    expect(share['0.1']).toBeGreaterThan(0.7); // the previous-token head: 1.0
    expect(share['1.1']).toBeGreaterThan(0.9); // the induction head: 1.16
    for (const h of ['0.2', '0.3', '1.0', '1.2', '1.3']) expect(Math.abs(share[h]!)).toBeLessThan(0.1);
  }, 60_000);
});
