/**
 * induction-2l's verified circuit is the textbook induction mechanism (Olsson et al. 2022): layer-0
 * previous-token heads write the previous token into each position, and the layer-1 induction heads
 * match the current token against it in their keys (K-composition), then copy the embedded token.
 * Its untied unembedding matters: with tied embeddings, a layer-0 head attending to its own token was the
 * only way to learn the bigram statistics of the background, and the induction head then read its
 * query and value through that head (see the README).
 */
import { describe, expect, it } from 'vitest';
import { attentionPatterns, meanAttention } from '../src/discovery/index.js';
import { makeTask } from '../src/tasks/index.js';
import { inductionAttentionCheck, loadZooModel, readZooCircuit, type ZooCircuit } from '../src/zoo/index.js';

describe('induction-2l mechanism', async () => {
  const { model, folder } = await loadZooModel('induction-2l');
  const circuit = readZooCircuit(folder); // reproduced from the weights in zoo.test.ts
  const check = inductionAttentionCheck(model, circuit, { length: 10, prefix: 5 });
  const prevHeads = check.by_attention.filter((h) => h.startsWith('0.'));
  const indHeads = check.by_attention.filter((h) => h.startsWith('1.'));
  const edges = circuit.edges ?? [];

  it('has an untied unembedding', () => {
    expect(model.cfg.tiedEmbeddings).toBe(false);
  });

  it('attention and patching select the same heads: previous-token heads in layer 0, induction heads in layer 1', () => {
    expect(prevHeads.length).toBeGreaterThan(0);
    expect(indHeads.length).toBeGreaterThan(0);
    expect(check.disagreements).toEqual([]);
    expect(check.by_attention).toEqual(check.by_patching);
  });

  it('explains each head the two sides dispute (a circuit that swaps 0.3 for 0.0 and adds 1.2)', () => {
    const swapped: ZooCircuit = { ...circuit, heads: ['0.0', '1.2', '1.3'] };
    const c = inductionAttentionCheck(model, swapped, { length: 10, prefix: 5 });
    expect(c.agrees).toBe(false);
    const whole = Math.abs(circuit.scores.clean_metric - circuit.scores.corrupted_metric);
    const share = (h: string): number => Math.round((Math.abs(circuit.scores.nodes[h]!) / whole) * 1000) / 1000;
    expect(c.disagreements).toEqual([
      `0.0: patching keeps it (damage ${share('0.0')} of the whole) but it is not a previous-token head (score ${c.previous_token['0.0']})`,
      `1.2: patching keeps it (damage ${share('1.2')} of the whole) but it is not an induction head (score ${c.induction['1.2']})`,
      `0.3: a previous-token head (score ${c.previous_token['0.3']}) whose patching alone moves the metric by only ${share('0.3')} of the whole (redundant or unused)`,
    ]);
  });

  it('every kept edge into an induction head\'s key comes from a previous-token head; its query and value read the embedding', () => {
    for (const h of indHeads) {
      const into = (qkv: string): string[] => edges.filter(([, r, x]) => r === h && x === qkv).map(([s]) => s);
      expect(into('k').length).toBeGreaterThan(0);
      for (const s of into('k')) expect(prevHeads).toContain(s);
      for (const s of [...into('q'), ...into('v')]) expect(s).toBe('embed');
      expect(edges).toContainEqual([h, 'output', '']);
    }
  });

  // (No layer-0 head attends to an earlier copy of its token either: duplicate-token scores < 0.1, in attention-scores.test.ts.)
  it('no layer-0 head attends to its own token', () => {
    const L = 10;
    const S = 6; // BOS + prefix 5
    const task = makeTask('induction', model, { n: 50, seed: 2, length: L, prefix: 5 });
    const p = attentionPatterns(model, task.clean)[0]!; // layer 0: [batch, head, query, key]
    const all = Array.from({ length: 2 * L }, (_, t) => S + t);
    for (const s of meanAttention(p, all, (q) => q)) expect(s).toBeLessThan(0.2);
  });
});
