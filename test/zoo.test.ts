/**
 * The bundled zoo: every model meets its limits (size, held-out accuracy), its accuracy and its
 * circuit are reproducible from the weights (what `zoo verify` checks), its files load as a
 * Hugging Face folder, and induction-2l's circuit agrees with its attention patterns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZOO_LIMITS, edgeLine, loadZooModel, readZooCircuit, verifyZooModel, zooFolder, zooNames } from '../src/zoo/index.js';
import { loadTruth } from '../src/eval/index.js';
import { buildGraph } from '../src/discovery/index.js';

describe('zoo models', () => {
  it('has the four models of the issue', () => {
    expect(zooNames()).toEqual(['induction-2l', 'ioi-toy', 'greater-than-toy', 'docstring-toy']);
  });

  for (const name of zooNames()) {
    it(`${name}: accuracy ≥ 95% on held-out prompts and its circuit recomputed from the weights equals circuit.json`, async () => {
      const { model, recipe, folder } = await loadZooModel(name);
      expect(folder).toBe(zooFolder(name));
      const rep = verifyZooModel(model, recipe, folder);
      expect(rep.problems).toEqual([]);
      expect(rep.accuracy).toBeGreaterThanOrEqual(ZOO_LIMITS.minAccuracy);
      expect(rep.accuracy).toBe(rep.saved_accuracy);
      expect(rep.circuit_differences).toEqual([]);
      expect(rep.bytes).toBeLessThanOrEqual(ZOO_LIMITS.maxBytes);
      const saved = recipe as typeof recipe & { trained: { seconds: number; bytes: number } };
      expect(saved.trained.seconds).toBeLessThanOrEqual(ZOO_LIMITS.maxTrainSeconds);
      expect(saved.trained.bytes).toBe(rep.bytes);
      // circuit.json reads as a ground truth (same form as ../shared/circuits) with a non-empty circuit.
      const circuit = readZooCircuit(folder);
      const graph = buildGraph(model.cfg);
      const truth = loadTruth(path.join(folder, 'circuit.json'), model.cfg, { graph });
      expect(truth.nodes.size).toBe(circuit.heads.length + circuit.mlps.length);
      expect(truth.nodes.size).toBeGreaterThan(0);
      expect(truth.edges?.size).toBe(circuit.edges?.length);
      expect(circuit.threshold_rule).toMatch(/\|damage\| ≥ 0\.1 ·/);
      for (const f of ['config.json', 'model.safetensors', 'recipe.json', 'README.md']) expect(fs.existsSync(path.join(folder, f))).toBe(true);
    }, 120_000);
  }

  it('induction-2l: the attention-pattern check recomputed from the weights equals the saved one', async () => {
    const { model, recipe, folder } = await loadZooModel('induction-2l');
    const rep = verifyZooModel(model, recipe, folder);
    const a = rep.attention_check!;
    const saved = (recipe as typeof recipe & { attention_check: typeof a }).attention_check;
    expect(a).toEqual(saved);
    expect(Object.keys(a.previous_token)).toEqual(['0.0', '0.1', '0.2', '0.3']);
    expect(Object.keys(a.induction)).toEqual(['1.0', '1.1', '1.2', '1.3']);
    for (const v of [...Object.values(a.previous_token), ...Object.values(a.induction)]) expect(v >= 0 && v <= 1).toBe(true);
    expect(a.by_attention).toEqual([...Object.entries(a.previous_token), ...Object.entries(a.induction)].filter(([, v]) => v >= a.threshold).map(([h]) => h).sort());
    const circuit = readZooCircuit(folder);
    expect(a.by_patching).toEqual([...circuit.heads].sort());
    expect(a.agrees).toBe(a.by_attention.join() === a.by_patching.join());
  }, 60_000);

  it('writes edges in the shared circuits\' spelling', () => {
    expect(edgeLine('input->0.1.v')).toEqual(['embed', '0.1', 'v']);
    expect(edgeLine('0.1->1.2.k')).toEqual(['0.1', '1.2', 'k']);
    expect(edgeLine('mlp0->output')).toEqual(['mlp0', 'output', '']);
    expect(edgeLine('1.3->mlp2')).toEqual(['1.3', 'mlp2', '']);
  });
});
