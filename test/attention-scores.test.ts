import { describe, expect, it } from 'vitest';
import { tensor } from '../src/tensor/index.js';
import { attentionPatterns, duplicateTokenScores, inductionScores, meanAttention, previousTokenScores } from '../src/discovery/index.js';
import { makeTask } from '../src/tasks/index.js';
import { loadZooModel } from '../src/zoo/index.js';

describe('attention-pattern scores', () => {
  it('meanAttention averages pattern[b, h, q, k(q)] over batch and queries (hand-computed)', () => {
    // [batch 2, head 1, query 3, key 3]
    const p = tensor([
      [[[1, 0, 0], [0.25, 0.75, 0], [0.1, 0.2, 0.7]]],
      [[[1, 0, 0], [0.5, 0.5, 0], [0.6, 0.3, 0.1]]],
    ]);
    // previous token: queries 1, 2 → keys 0, 1: (0.25 + 0.2 + 0.5 + 0.3) / 4
    expect(meanAttention(p, [1, 2], (q) => q - 1)[0]).toBeCloseTo(1.25 / 4, 6);
    // query 2 → key 0 only: (0.1 + 0.6) / 2
    expect(meanAttention(p, [2], () => 0)[0]).toBeCloseTo(0.35, 6);
  });

  it('on induction-2l: previous-token head 0.3, induction head 1.3, no duplicate-token head; a head\'s duplicate-token and induction scores never sum past 1', async () => {
    const { model } = await loadZooModel('induction-2l');
    const L = 10;
    const P = 5;
    const tokens = makeTask('induction', model, { n: 20, seed: 3, length: L, prefix: P }).clean; // [20, 1 + 5 + 2·10]
    const patterns = attentionPatterns(model, tokens);
    const prev = previousTokenScores(patterns);
    const dup = duplicateTokenScores(patterns, L, 1 + P);
    const ind = inductionScores(patterns, L, 1 + P);
    expect(prev[0]![3]).toBeGreaterThan(0.9);
    expect(ind[1]![3]).toBeGreaterThan(0.6);
    for (let h = 0; h < 4; h++) {
      if (h !== 3) expect(prev[0]![h]).toBeLessThan(0.2);
      if (h !== 3) expect(ind[1]![h]).toBeLessThan(0.1);
      expect(dup[0]![h]).toBeLessThan(0.1); // no layer-0 head looks back a whole segment
    }
    // Both average over the second copy's queries, with distinct keys q − L and q − L + 1, and each pattern row sums to 1.
    for (let l = 0; l < 2; l++) {
      for (let h = 0; h < 4; h++) {
        expect(dup[l]![h]! + ind[l]![h]!).toBeLessThanOrEqual(1 + 1e-5);
        for (const s of [prev[l]![h]!, dup[l]![h]!, ind[l]![h]!]) expect(s >= 0 && s <= 1).toBe(true);
      }
    }
  }, 60_000);

  it('says when the repeated segment does not fit the prompts', async () => {
    const { model } = await loadZooModel('induction-2l');
    const tokens = makeTask('induction', model, { n: 2, seed: 0, length: 5, prefix: 0 }).clean; // [2, 11]
    const patterns = attentionPatterns(model, tokens);
    expect(() => duplicateTokenScores(patterns, 8)).toThrow(/duplicate-token scores: a segment of 8 repeated after 1 tokens does not fit prompts of 11 tokens/);
    expect(() => inductionScores(patterns, 8)).toThrow(/induction scores: a segment of 8/);
  });
});
