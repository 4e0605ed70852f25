/**
 * What induction-2l's duplicate-token head 0.0 contributes, edge by edge. 0.0 attends to the earlier
 * occurrence of its token when there is one, else to itself. The task's corruption replaces the first
 * copy; reversing it instead keeps every token repeated (0.0 still finds an earlier occurrence) and makes
 * every successor wrong. Node patching of 0.0 costs most of the effect under both corruptions, but edge
 * patching splits it: under the reversal 0.0's edge into 1.1's query costs little (so the query does not
 * use *where* the earlier occurrence is, only that there is one), while its edge into 1.1's value costs
 * the whole effect (in the first copy 0.0 attends to itself, so it hands 1.1 the token to copy).
 */
import { describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { IntTensor } from '../src/tensor/index.js';
import { exactEdge, exactNode, meanAttention } from '../src/discovery/index.js';
import { makeTask, type Task } from '../src/tasks/index.js';
import { loadZooModel } from '../src/zoo/index.js';

describe('induction-2l mechanism', async () => {
  const { model } = await loadZooModel('induction-2l');
  const L = 10;
  const P = 5;
  const S = 1 + P; // BOS + prefix before the first copy
  const task = makeTask('induction', model, { n: 50, seed: 2, length: L, prefix: P });
  const [n, pos] = task.clean.shape as [number, number]; // [50, 1 + 5 + 2·10]
  const rev = new Int32Array(task.clean.data);
  for (let i = 0; i < n; i++) for (let t = 0; t < L; t++) rev[i * pos + S + t] = task.clean.data[i * pos + S + L - 1 - t]!;
  // Task methods live on the prototype, so the spread copies them by name.
  const reversed: Task = { ...task, metric: task.metric, correct: task.correct, corrupt: new IntTensor(rev, [n, pos]) };
  const mean = (tokens: IntTensor): number => T.noGrad(() => T.mean(reversed.metric(model.forward(tokens))).item());
  const whole = mean(reversed.clean) - mean(reversed.corrupt);
  const shares = (scores: Record<string, number>, d: number): Record<string, number> => Object.fromEntries(Object.entries(scores).map(([k, v]) => [k, v / d]));

  it('0.0 attends to the earlier occurrence of its token, else to itself', () => {
    const { cache } = model.runWithCache(task.clean, { names: ['blocks.0.attn.hook_pattern'] });
    const p = cache.get('blocks.0.attn.hook_pattern'); // [batch, head, query, key]
    const first = Array.from({ length: L }, (_, t) => S + t);
    const second = Array.from({ length: L - 1 }, (_, t) => S + L + t);
    expect(meanAttention(p, first, (q) => q)[0]).toBeGreaterThan(0.95); // measured 0.999
    expect(meanAttention(p, second, (q) => q - L)[0]).toBeGreaterThan(0.9); // measured 0.968
  });

  it('node patching of 0.0 from a reversed first copy costs most of the effect', () => {
    expect(whole).toBeGreaterThan(5); // log-prob of the right next token: ≈ −0.16 clean, ≈ −6.5 reversed
    const share = shares(exactNode.discover(model, reversed, { ablation: 'corrupted', seed: 2 }).nodes, whole);
    expect(share['0.0']).toBeGreaterThan(0.7); // measured 0.86
    expect(share['0.1']).toBeGreaterThan(0.7); // the previous-token head: 1.0
    expect(share['1.1']).toBeGreaterThan(0.9); // the induction head: 1.16
    for (const h of ['0.2', '0.3', '1.0', '1.2', '1.3']) expect(Math.abs(share[h]!)).toBeLessThan(0.1);
  }, 60_000);

  it('edge patching: under the reversal 0.0 matters through 1.1\'s value, hardly through its query', () => {
    const share = shares(exactEdge.discover(model, reversed, { ablation: 'corrupted', seed: 2 }).edges!, whole);
    expect(share['0.0->1.1.v']).toBeGreaterThan(0.7); // measured 1.10: the token to copy
    expect(share['0.1->1.1.k']).toBeGreaterThan(0.7); // measured 1.00: the previous token, matched by the key
    expect(share['0.0->1.1.q']).toBeLessThan(0.3); // measured 0.14: which earlier position hardly matters
    // Under the task's corruption 0.0 attends to itself in the second copy, and its edge into the query
    // does matter (measured 0.87): the query uses *whether* the token occurred before.
    const d = mean(task.clean) - T.noGrad(() => T.mean(task.metric(model.forward(task.corrupt))).item());
    const own = shares(exactEdge.discover(model, task, { ablation: 'corrupted', seed: 2 }).edges!, d);
    expect(own['0.0->1.1.q']).toBeGreaterThan(0.5);
  }, 120_000);
});
