/**
 * circuit-lasso: path masses by hand, the DAG constraint (even when the data run backwards), recovery of
 * a known generating DAG, the zoo induction model against its verified circuit, gpt-nano-sort against
 * exact node patching, SAE mode, determinism, and clear errors.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { circuitLasso, denseCoefs, fitCircuitLasso, pathMass, perPrompt, structurePath } from '../src/discovery/circuit-lasso.js';
import { type ComponentColumns, designFrom } from '../src/discovery/lasso/design.js';
import { buildGraph, exactNode } from '../src/discovery/index.js';
import { HookedTransformer } from '../src/model/index.js';
import { makeTask } from '../src/tasks/index.js';
import { loadZooModel, readZooCircuit, scoreAgainstZoo } from '../src/zoo/index.js';
import { rocAuc, spearman } from '../src/eval/index.js';
import { Rng } from '../src/util/rng.js';
import { errorOf } from './helpers.js';
import { SHARED } from './shared.js';

/** A linear SEM over components: input → 0.0 → mlp0 (first of 2 columns) → 1.0 → target; 0.1, 1.1 and mlp0's second column are noise. */
function plantedDag(rows: number, seed: number): { comps: ComponentColumns[]; y: Float64Array } {
  const rng = new Rng(seed);
  const col = (f: (r: number) => number): Float64Array => Float64Array.from({ length: rows }, (_, r) => f(r));
  const x = col(() => rng.normal());
  const h00 = col((r) => 0.9 * x[r]! + 0.4 * rng.normal());
  const h01 = col(() => rng.normal());
  const m0a = col((r) => 0.8 * h00[r]! + 0.5 * rng.normal());
  const m0 = new Float64Array(2 * rows);
  for (let r = 0; r < rows; r++) {
    m0[2 * r] = m0a[r]!;
    m0[2 * r + 1] = rng.normal();
  }
  const h10 = col((r) => 0.9 * m0a[r]! + 0.4 * rng.normal());
  const h11 = col(() => rng.normal());
  const y = col((r) => 1.2 * h10[r]! + 0.3 * rng.normal());
  const one = (node: string, kind: 'input' | 'head' | 'mlp', layer: number, columns: Float64Array): ComponentColumns => ({ node, kind, layer, columns, size: columns.length / rows });
  // Deliberately out of forward order: designFrom sorts the blocks.
  const comps = [one('1.1', 'head', 1, h11), one('mlp0', 'mlp', 0, m0), one('1.0', 'head', 1, h10), one('0.1', 'head', 0, h01), one('input', 'input', -1, x), one('0.0', 'head', 0, h00)];
  return { comps, y };
}

describe('circuit-lasso on hand-built designs', () => {
  it('path mass: t = |a| + |A| t, by hand', () => {
    const A = { p: 3, i: [0, 0, 1], j: [1, 2, 2], v: [0.5, 1, -2] }; // A[0,1] = 0.5, A[0,2] = 1, A[1,2] = −2
    const t = pathMass(A, Float64Array.from([0.1, 0, 3]));
    expect([...t]).toEqual([0.1 + 0.5 * 6 + 3, 6, 3]);
    expect(denseCoefs(A)[1 * 3 + 2]).toBe(-2);
    expect(errorOf(() => pathMass({ p: 2, i: [1], j: [0], v: [1] }, new Float64Array(2))).message).toMatch(/from column 1 to the earlier column 0/);
  });

  it('recovers a planted generating DAG: its edges are the strongest, its nodes rank first', () => {
    const { comps, y } = plantedDag(200, 1);
    const d = designFrom(comps, 200);
    expect(d.blocks.map((b) => b.node)).toEqual(['input', '0.0', '0.1', 'mlp0', '1.0', '1.1']);
    const fit = fitCircuitLasso(d, y, { seed: 1 });
    // The planted edges are the four strongest (standardised path coefficients ≈ 0.8–0.9); the 1-SE λ (≈ 0.065
    // here) also lets a few chance correlations of 200 rows in, all far weaker.
    const edges = [...fit.edgeScore].sort((p, q) => q[1] - p[1]);
    expect(edges.slice(0, 4).map(([k]) => k).sort()).toEqual(['0.0->mlp0', '1.0->output', 'input->0.0', 'mlp0->1.0']);
    for (const [, v] of edges.slice(0, 4)) expect(v).toBeGreaterThan(0.7);
    for (const [, v] of edges.slice(4)) expect(v).toBeLessThan(0.25);
    for (const e of ['0.0->mlp0', '1.0->output', 'input->0.0', 'mlp0->1.0']) expect(fit.selectedEdges.has(e)).toBe(true);
    // A node budget picks the smallest λ whose circuit stays within it: here exactly the planted chain's nodes.
    const budget = fitCircuitLasso(d, y, { seed: 1, maxNodes: 3 });
    expect([...budget.selectedNodes].filter((k) => k !== 'input').sort()).toEqual(['0.0', '1.0', 'mlp0']);
    expect(budget.path[budget.chosen + 1]!.nodes).toBeGreaterThan(3);
    const ranked = [...fit.nodeScore].filter(([k]) => k !== 'input').sort((p, q) => q[1] - p[1]).map(([k]) => k);
    expect(ranked.slice(0, 3).sort()).toEqual(['0.0', '1.0', 'mlp0']);
    // The noise column of mlp0 carries no coefficient; the planted one carries the mlp0 → 1.0 edge.
    const m = d.blocks.find((b) => b.node === 'mlp0')!.start;
    const h10 = d.blocks.find((b) => b.node === '1.0')!.start;
    expect(fit.A[(m + 1) * d.p + h10]).toBe(0);
    expect(fit.A[m * d.p + h10]).toBeGreaterThan(0.5);
    // Standardised path coefficients: mass(1.0) = |a(1.0)| ≈ 0.97 (corr of y with 1.0), shrunk by λ.
    expect(fit.nodeScore.get('1.0')).toBeGreaterThan(0.8);
    expect(fit.nodeScore.get('1.0')).toBeLessThan(1);
    // The path starts empty at λ_max and the default is a λ on it.
    expect(fit.path[0]!.lambda).toBe(fit.lambdaMax);
    expect(fit.path[0]!.edges + fit.path[0]!.target_nonzeros).toBe(0);
    expect(fit.path[fit.chosen]!.cv_error).toBeLessThanOrEqual(Math.min(...fit.path.map((p) => p.cv_error)) + Math.max(...fit.path.map((p) => p.cv_se)));
    // Per-prompt scores are |mass| ⊙ |z| (one column for 1.0).
    const pp = perPrompt(fit, ['1.0'], ['1.0->output']);
    expect(pp.nodes['1.0']![7]).toBeCloseTo(fit.mass[h10]! * Math.abs(d.Z[7 * d.p + h10]!), 3);
    expect(pp.edges['1.0->output']![7]).toBeCloseTo(Math.abs(fit.a[h10]!) * Math.abs(d.Z[7 * d.p + h10]!), 3);
  });

  it('never puts a coefficient from a later block on an earlier one, even when the data run backwards', () => {
    const rows = 120;
    const rng = new Rng(4);
    const late = Float64Array.from({ length: rows }, () => rng.normal());
    const early = Float64Array.from(late, (v) => 0.9 * v + 0.3 * rng.normal()); // "1.0 causes 0.0" in the data
    const d = designFrom([
      { node: '0.0', kind: 'head', layer: 0, columns: early, size: 1 },
      { node: '0.1', kind: 'head', layer: 0, columns: Float64Array.from(late, (v) => v + rng.normal()), size: 1 },
      { node: '1.0', kind: 'head', layer: 1, columns: late, size: 1 },
    ], rows);
    const lambdas = [0.5, 0.1, 0.01, 0.001];
    for (const coefs of structurePath(d, lambdas, { tol: 1e-8, maxIter: 10_000 })) {
      coefs.v.forEach((_, k) => expect(d.blocks[d.colBlock[coefs.i[k]!]!]!.order).toBeLessThan(d.blocks[d.colBlock[coefs.j[k]!]!]!.order));
      const A = denseCoefs(coefs);
      expect(A[0 * d.p + 2]).toBeGreaterThan(0); // the dependence shows up forwards: 0.0 → 1.0
      expect(A[0 * d.p + 1]).toBe(0); // heads of one layer never feed each other
    }
  });

  it('rejects degenerate data with one clear error each', () => {
    const { comps, y } = plantedDag(40, 2);
    const d = designFrom(comps, 40);
    expect(errorOf(() => fitCircuitLasso(d, new Float64Array(40).fill(-1.5))).message).toMatch(/target does not vary.*-1\.5/);
    expect(errorOf(() => fitCircuitLasso(d, new Float64Array(40).fill(1), { target: 'class' })).message).toMatch(/one class only/);
    expect(errorOf(() => fitCircuitLasso(d, y.subarray(0, 39))).message).toMatch(/39 target values for 40 rows/);
    expect(errorOf(() => fitCircuitLasso(designFrom(comps.map((c) => ({ ...c, columns: c.columns.subarray(0, 2 * c.size) })), 2), y.subarray(0, 2))).message).toMatch(/at least 2 prompt pairs, got 1/);
    const flat = comps.map((c) => ({ ...c, columns: new Float64Array(c.columns.length).fill(3) }));
    expect(errorOf(() => designFrom(flat, 40)).message).toMatch(/no component varies/);
    const partly = designFrom([...comps.slice(0, 5), { ...comps[5]!, columns: new Float64Array(40).fill(2) }], 40);
    expect(partly.dropped).toEqual(['0.0']);
  });
});

describe('circuit-lasso on models', () => {
  let sortModel: HookedTransformer;
  beforeAll(async () => {
    sortModel = await HookedTransformer.load(path.join(SHARED, 'models/gpt-nano-sort'));
  });

  it('induction-2l: the verified circuit ranks first (ROC AUC, Spearman vs exact patching), deterministically', async () => {
    const { model, recipe, folder } = await loadZooModel('induction-2l');
    const task = makeTask(recipe.task, model, { ...recipe.eval.task_options, n: 40, seed: 1 });
    const res = circuitLasso.discover(model, task, { seed: 1 });
    const graph = buildGraph(model.cfg);
    expect(Object.keys(res.nodes).sort()).toEqual(graph.nodes.filter((n) => n.kind === 'head').map((n) => n.name).sort());
    expect(Object.keys(res.edges!).length).toBe(graph.edges.length);
    for (const v of [...Object.values(res.nodes), ...Object.values(res.edges!)]) expect(Number.isFinite(v) && v >= 0).toBe(true);
    // Measured over seeds 1–8 at n = 40: AUC 1.00 on every seed (n = 20: mean 0.97, min 0.83; n = 6: mean 0.81),
    // Spearman vs the saved exact node damages 0.43–0.79 (8 heads; the six outside the circuit have damages ≈ 0).
    const auc = scoreAgainstZoo(model, folder, res).nodes.auc;
    expect(auc).toBeGreaterThanOrEqual(0.9);
    const exact = readZooCircuit(folder).scores.nodes;
    const keys = Object.keys(exact);
    expect(spearman(keys.map((k) => res.nodes[k]!), keys.map((k) => exact[k]!))).toBeGreaterThan(0.3);
    expect(res.selected!.nodes).toEqual(expect.arrayContaining(['0.3', '1.3'])); // the verified circuit
    for (const e of res.selected!.edges!) expect(res.edges![e]).toBeGreaterThan(0);
    // q, k and v of a head share one score.
    expect(res.edges!['0.2->1.1.q']).toBe(res.edges!['0.2->1.1.k']);
    const extra = res.extra as { path: { edges: number; target_nonzeros: number }[]; chosen_index: number; per_prompt: { prompts: string[]; nodes: Record<string, number[]> } };
    expect(extra.path).toHaveLength(30);
    expect(extra.path[0]!.edges + extra.path[0]!.target_nonzeros).toBe(0);
    expect(extra.per_prompt.prompts).toHaveLength(80);
    expect(extra.per_prompt.nodes['0.3']).toHaveLength(80);
    expect(res.runtime_s).toBeLessThan(5);
    const again = circuitLasso.discover(model, task, { seed: 1 });
    expect(again.nodes).toEqual(res.nodes);
    expect(again.edges).toEqual(res.edges);
    // Classification clean vs corrupted ranks the circuit first too.
    expect(scoreAgainstZoo(model, folder, circuitLasso.discover(model, task, { seed: 1, lassoTarget: 'class' })).nodes.auc).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('gpt-nano-sort: above chance against exact node patching', () => {
    const exact = exactNode.discover(sortModel, makeTask('sort', sortModel, { n: 50, seed: 2 }), { ablation: 'corrupted', seed: 2 }).nodes;
    const res = circuitLasso.discover(sortModel, makeTask('sort', sortModel, { n: 20, seed: 1 }), { seed: 1 });
    const keys = Object.keys(exact);
    expect(Object.keys(res.nodes).sort()).toEqual([...keys].sort());
    const top = Math.max(...keys.map((k) => Math.abs(exact[k]!)));
    // Measured over seeds 1–8 at n = 20: AUC 0.71–0.97 (mean 0.82), Spearman 0.41–0.79 (mean 0.62).
    expect(rocAuc(keys.map((k) => res.nodes[k]!), keys.map((k) => Math.abs(exact[k]!) >= 0.1 * top))).toBeGreaterThanOrEqual(0.65);
    expect(spearman(keys.map((k) => res.nodes[k]!), keys.map((k) => exact[k]!))).toBeGreaterThan(0.3);
  });

  it('SAE mode: dictionaries trained on the prompts, at most 8 features per component', async () => {
    const { model, recipe, folder } = await loadZooModel('induction-2l');
    const task = makeTask(recipe.task, model, { ...recipe.eval.task_options, n: 40, seed: 1 });
    const aucs = [1, 2, 3, 4].map((seed) => {
      const res = circuitLasso.discover(model, task, { seed, lassoFeatures: 'sae', lassoSaeSteps: 300, lassoDsae: 128 });
      const perNode = (res.extra as { columns_per_node: Record<string, number> }).columns_per_node;
      for (const [node, k] of Object.entries(perNode)) expect(k, node).toBeLessThanOrEqual(node === 'input' ? 1 : 8);
      expect(Object.keys(perNode).length).toBeGreaterThan(4);
      return scoreAgainstZoo(model, folder, res).nodes.auc;
    });
    // Measured over seeds 1–4 (n = 40, 300 steps, width 128): AUC 0.42, 0.58, 1.00, 0.58 (mean 0.65). Far
    // noisier than raw mode (AUC 1.00): each dictionary is trained on 80 prompts only, and the circuit's
    // previous-token head acts through the induction head's keys, a product the linear regression on
    // dictionary codes sees only through whichever features happen to carry it.
    expect(aucs.reduce((a, b) => a + b, 0) / aucs.length).toBeGreaterThanOrEqual(0.6);
    expect(Math.max(...aucs)).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('rejects bad options with one clear error each', () => {
    const task = makeTask('sort', sortModel, { n: 4, seed: 1 });
    expect(errorOf(() => circuitLasso.discover(sortModel, task, { lassoFeatures: 'pca' })).message).toMatch(/lassoFeatures must be one of raw, sae/);
    expect(errorOf(() => circuitLasso.discover(sortModel, task, { lassoTarget: 'logit' })).message).toMatch(/lassoTarget must be one of metric, class/);
    expect(errorOf(() => circuitLasso.discover(sortModel, task, { lassoMinRatio: 1.5 })).message).toMatch(/lassoMinRatio must be below 1/);
    expect(errorOf(() => circuitLasso.discover(sortModel, task, { lassoLambdas: 1 })).message).toMatch(/lassoLambdas must be an integer ≥ 2/);
    expect(errorOf(() => circuitLasso.discover(sortModel, task, { lassoRule: 'cv' })).message).toMatch(/lassoRule must be one of 1se, min/);
    expect(errorOf(() => circuitLasso.discover(sortModel, task, { metric: 'kl' })).message).toMatch(/metric must be task or logit-diff/);
    expect(errorOf(() => circuitLasso.discover(sortModel, makeTask('sort', sortModel, { n: 1, seed: 1 }), {})).message).toMatch(/at least 2 prompt pairs/);
    // The logit margin as the target is accepted and reported.
    expect(circuitLasso.discover(sortModel, task, { metric: 'logit-diff' }).options).toMatchObject({ ablation: 'none', metric: 'logit-diff' });
  });
});
