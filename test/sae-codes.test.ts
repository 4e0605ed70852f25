/**
 * sae-codes (O'Neill & Bui 2024): the scoring rules on hand-made codes, the SAE's gradients, constraints
 * and training, and the method end to end on the zoo's induction model and gpt-nano-sort.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { Rng } from '../src/util/rng.js';
import { saeLoss } from '../src/dictionaries/sae/index.js';
import { buildGraph, exactNode } from '../src/discovery/index.js';
import { meanStd, pairNodeScores, positiveOnlyCounts, positiveOnlyPairCounts, rankedPairs, softmax, thresholdSweep } from '../src/discovery/sae-codes-score.js';
import { codeSaeGradients, encodeCodes, initCodeSae, trainCodeSae } from '../src/discovery/sae-codes-sae.js';
import { componentMeans, saeCodes } from '../src/discovery/sae-codes.js';
import { HookedTransformer } from '../src/model/index.js';
import { makeTask, taskFromJson } from '../src/tasks/index.js';
import { loadZooModel, readZooCircuit, scoreAgainstZoo } from '../src/zoo/index.js';
import { errorOf, expectClose } from './helpers.js';
import { SHARED } from './shared.js';

const SORT = path.join(SHARED, 'models/gpt-nano-sort');

function randomRows(rows: number, d: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return new Float32Array(rows * d).map(() => rng.normal() * scale);
}


describe('sae-codes scoring rules', () => {
  // 3 positive and 2 negative examples × 3 components, laid out [example, component].
  const codes = Int32Array.from([
    1, 5, -1,
    2, 5, 4,
    2, 5, 7,
    2, 5, 8,
    3, 5, 9,
  ]);

  it('counts the distinct codes a component takes only on positives, optionally over its distinct codes', () => {
    // comp 0: positives {1, 2}, negatives {2, 3} → {1}; comp 1: {5} vs {5} → none; comp 2: {−1, 4, 7} vs {8, 9} → 3
    expect(Array.from(positiveOnlyCounts(codes, 3, 2, 3))).toEqual([1, 0, 3]);
    expectClose(positiveOnlyCounts(codes, 3, 2, 3, true), [1 / 3, 0, 3 / 5], 1e-12);
    expect(errorOf(() => positiveOnlyCounts(codes, 3, 3, 3)).message).toMatch(/do not fit 3 positive \+ 3 negative/);
  });

  it('softmax is exp(x)/Σexp(x), shift-invariant and finite for large inputs', () => {
    const z = 1 + Math.E + Math.E ** 3;
    expectClose(softmax([0, 1, 3]), [1 / z, Math.E / z, Math.E ** 3 / z], 1e-12);
    expectClose(softmax([1000, 1001, 1003]), softmax([0, 1, 3]), 1e-12);
    expect(Array.from(softmax([]))).toEqual([]);
  });

  it('pair scores count the code pairs seen only on positives (normalised by positive + negative pairs)', () => {
    // 2 positives [1,2,3], [1,4,3]; 1 negative [1,2,5]
    const c = Int32Array.from([1, 2, 3, 1, 4, 3, 1, 2, 5]);
    const raw = positiveOnlyPairCounts(c, 2, 1, 3);
    // (0,1): {(1,2),(1,4)} − {(1,2)} → 1;  (0,2): {(1,3)} − {(1,5)} → 1;  (1,2): {(2,3),(4,3)} − {(2,5)} → 2
    expect(Array.from(raw)).toEqual([0, 1, 1, 1, 0, 2, 1, 2, 0]);
    expectClose(positiveOnlyPairCounts(c, 2, 1, 3, true), [0, 1 / 3, 1 / 2, 1 / 3, 0, 2 / 3, 1 / 2, 2 / 3, 0], 1e-12);
    expect(rankedPairs(raw, 3)).toEqual([{ a: 1, b: 2, score: 2 }, { a: 0, b: 1, score: 1 }, { a: 0, b: 2, score: 1 }]);
    // the best pair (1, 2) alone: counts [0, 1, 1]
    expectClose(pairNodeScores(raw, 3, 1), softmax([0, 1, 1]), 1e-12);
  });

  it('the threshold sweep gives TPR, FPR, precision, recall, F1 and the paper\'s F1 (TPR vs specificity)', () => {
    const sweep = thresholdSweep({ a: 0.5, b: 0.3, c: 0.3, d: 0.1 }, new Set(['a', 'c']));
    expect(sweep.map((p) => [p.threshold, p.selected, p.tp, p.fp])).toEqual([[Infinity, 0, 0, 0], [0.5, 1, 1, 0], [0.3, 3, 2, 1], [0.1, 4, 2, 2]]);
    const two3 = 2 / 3;
    expectClose(sweep.map((p) => p.tpr!), [0, 0.5, 1, 1], 1e-12);
    expectClose(sweep.map((p) => p.fpr!), [0, 0, 0.5, 1], 1e-12);
    expectClose(sweep.map((p) => p.precision!), [1, 1, two3, 0.5], 1e-12);
    expectClose(sweep.map((p) => p.f1!), [0, two3, 0.8, two3], 1e-12);
    expectClose(sweep.map((p) => p.f1Paper!), [0, two3, two3, 0], 1e-12);
    expect(thresholdSweep({ a: 1, b: 2 })).toEqual([{ threshold: Infinity, selected: 0 }, { threshold: 2, selected: 1 }, { threshold: 1, selected: 2 }]);
  });

  it('mean and population standard deviation over trials', () => {
    const { mean, std } = meanStd([[1, 2], [3, 6]]);
    expectClose(mean, [2, 4], 1e-12);
    expectClose(std, [1, 2], 1e-12);
  });
});

describe('the sae-codes SAE', () => {
  it('its hand-written gradients equal autograd of mse_loss + λ·mean L1 with the tied bias', () => {
    const [rows, d, k, l1] = [12, 6, 5, 0.05];
    const sae = initCodeSae(d, k, 3);
    sae.params.b_dec.data.set(randomRows(1, d, 4, 0.3));
    const x = randomRows(rows, d, 5);
    const mine = codeSaeGradients(sae, x, rows, l1);
    const p = sae.params;
    for (const t of [p.W_enc, p.b_enc, p.W_dec, p.b_dec]) t.requireGrad();
    // saeLoss: Σ_d e² averaged over rows + coef·mean L1, both through the one b_dec; ÷ d gives the authors' scale
    const terms = saeLoss(sae, new T.Tensor(x, [rows, d]), undefined, { coef: l1 * d });
    const loss = T.div(terms.loss, d);
    loss.backward();
    expect(mine.loss).toBeCloseTo(loss.item(), 5);
    const f = terms.f.data;
    expect(f.some((v) => v > 0) && f.some((v) => v === 0)).toBe(true); // both branches of the ReLU are exercised
    expectClose(mine.grads.W_enc, p.W_enc.grad!.data, 1e-4);
    expectClose(mine.grads.b_enc, p.b_enc.grad!.data, 1e-4);
    expectClose(mine.grads.W_dec, p.W_dec.grad!.data, 1e-4);
    expectClose(mine.grads.b_dec, p.b_dec.grad!.data, 1e-4);
  });

  it('training keeps every dictionary vector at norm 1, lowers the loss, and screening changes nothing', () => {
    // Small inputs against λ: most features die during training, so the screened encoder's shortcuts all run.
    const [rows, d, k] = [120, 32, 40];
    const x = randomRows(rows, d, 7, 0.5);
    const opts = { dSae: k, l1: 0.05, steps: 200, seed: 1 };
    const { sae, losses, encoder } = trainCodeSae(x, rows, d, opts);
    expect(losses[losses.length - 1]!).toBeLessThan(0.5 * losses[0]!);
    const { W_enc, W_dec } = sae.params;
    for (let j = 0; j < k; j++) {
      let e = 0;
      let dd = 0;
      for (let c = 0; c < d; c++) {
        e += W_enc.data[c * k + j]! ** 2;
        dd += W_dec.data[j * d + c]! ** 2;
      }
      expect(Math.sqrt(e)).toBeCloseTo(1, 5);
      expect(Math.sqrt(dd)).toBeCloseTo(1, 5);
    }
    // one b: subtracted before encoding and added after decoding (b_dec applied to the input, no separate output bias)
    expect(sae.cfg.apply_b_dec_to_input).toBe(true);
    expect(sae.params.b_dec_out).toBeUndefined();
    expect(sae.params.b_dec.data.some((v) => v !== 0)).toBe(true);
    // the trainer's loss is the tied-bias loss of the dictionaries' reference implementation
    const again = codeSaeGradients(sae, x, rows, 0.05).loss;
    expect(again).toBeCloseTo(T.noGrad(() => T.div(saeLoss(sae, new T.Tensor(x, [rows, d]), undefined, { coef: 0.05 * d }).loss, d).item()), 5);
    // skipping provably inactive encoder entries (columns recomputed, single dot products) gives the same run
    expect(encoder.full).toBeLessThan(opts.steps);
    expect(encoder.columns).toBeGreaterThan(0);
    expect(encoder.dots).toBeGreaterThan(0);
    const plain = trainCodeSae(x, rows, d, { ...opts, screen: false });
    expect(plain.encoder).toEqual({ full: opts.steps, columns: 0, dots: 0 });
    expectClose(losses, plain.losses, 1e-6);
    expect(Array.from(encodeCodes(sae, x, rows))).toEqual(Array.from(encodeCodes(plain.sae, x, rows)));
  });

  it('a code is the argmax feature, and −1 where no feature fires', () => {
    const sae = initCodeSae(4, 3, 0);
    const x = randomRows(5, 4, 2);
    sae.params.b_enc.data.set([-100, -100, -100]);
    expect(Array.from(encodeCodes(sae, x, 5))).toEqual([-1, -1, -1, -1, -1]);
    sae.params.b_enc.data.set([0, 5, 0]);
    expect(Array.from(encodeCodes(sae, x, 5))).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('sae-codes on models', () => {
  it('head means from hook_z·W_O equal the means of hook_result; the result covers every node; MLPs 0 unless scored', async () => {
    const { model, recipe } = await loadZooModel('ioi-toy');
    const task = makeTask(recipe.task, model, { ...recipe.eval.task_options, n: 4, seed: 1 });
    const graph = buildGraph(model.cfg);
    const comps = graph.senders.filter((s) => s.kind !== 'input');
    const last = task.positions.map((p) => Math.max(...p));
    const { means } = componentMeans(model, task.clean, last, comps);
    const { cache } = model.runWithCache(task.clean, { names: (n) => n.endsWith('hook_result') || n.endsWith('hook_mlp_out'), attnResult: true });
    const { nHeads: H, dModel: d } = model.cfg;
    const pos = task.clean.shape[1]!;
    comps.forEach((c, ci) => {
      for (let i = 0; i < 4; i++) {
        const want = new Float64Array(d);
        const act = cache.get(c.kind === 'head' ? `blocks.${c.layer}.attn.hook_result` : `blocks.${c.layer}.hook_mlp_out`).data;
        for (let p = 0; p <= last[i]!; p++) for (let k = 0; k < d; k++) want[k]! += act[c.kind === 'head' ? ((i * pos + p) * H + c.head!) * d + k : (i * pos + p) * d + k]! / (last[i]! + 1);
        expectClose(means.subarray((i * comps.length + ci) * d, (i * comps.length + ci + 1) * d), want, 1e-4);
      }
    });
    const nodes = comps.map((c) => c.name).sort();
    const heads = comps.filter((c) => c.kind === 'head').map((c) => c.name);
    const res = saeCodes.discover(model, task, { saeSteps: 60, seed: 1 });
    expect(Object.keys(res.nodes).sort()).toEqual(nodes);
    expect(heads.reduce((s, h) => s + res.nodes[h]!, 0)).toBeCloseTo(1, 9); // a softmax over the heads
    for (const m of comps.filter((c) => c.kind === 'mlp')) expect(res.nodes[m.name]).toBe(0);
    for (const h of res.selected!.nodes) expect(res.nodes[h]!).toBeGreaterThan(1 / heads.length);
    const withMlps = saeCodes.discover(model, task, { saeSteps: 60, seed: 1, saeMlps: true });
    expect(Object.values(withMlps.nodes).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
    expect(Object.values(withMlps.nodes).every((v) => v > 0)).toBe(true);
    expect(withMlps.extra!.components).toBe(comps.length);
  }, 60_000);

  it('is deterministic by seed, and --trials averages the runs of seeds seed…seed+n−1', async () => {
    const { model, recipe } = await loadZooModel('induction-2l');
    const task = makeTask(recipe.task, model, { ...recipe.eval.task_options, n: 6, seed: 5 });
    const run = (seed: number, more: Record<string, unknown> = {}) => saeCodes.discover(model, task, { seed, saeSteps: 80, ...more });
    const a = run(2);
    expect(run(2).nodes).toEqual(a.nodes);
    expect(run(3).extra!.sae).not.toEqual(a.extra!.sae);
    const singles = [2, 3, 4].map((s) => run(s));
    const three = run(2, { trials: 3 });
    const trials = three.extra!.trials as { n: number; seeds: number[]; mean: Record<string, number>; std: Record<string, number> };
    expect(trials.seeds).toEqual([2, 3, 4]);
    for (const h of Object.keys(a.nodes)) {
      const v = singles.map((r) => r.nodes[h]!);
      const mean = (v[0]! + v[1]! + v[2]!) / 3;
      expect(three.nodes[h]).toBeCloseTo(mean, 12);
      expect(trials.std[h]).toBeCloseTo(Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / 3), 5);
    }
  }, 60_000);

  it('on induction-2l it ranks the verified circuit first and selects it, as exact patching does', async () => {
    const { model, recipe, folder } = await loadZooModel('induction-2l');
    const task = makeTask(recipe.task, model, { ...recipe.eval.task_options, n: 10, seed: 5 });
    const res = saeCodes.discover(model, task, { seed: 0, trials: 3 });
    const exact = exactNode.discover(model, task, { ablation: 'corrupted', seed: 5 });
    const heads = Object.keys(exact.nodes);
    const auc = scoreAgainstZoo(model, folder, res).nodes.auc;
    // Measured with 3 trials (seed 0): AUC 1.000; previous-token head 0.3 0.48 and induction head 1.3 0.32
    // of the softmax, every other head ≤ 0.10; selected 0.3 1.3. (Spearman over all heads is not asserted:
    // the six heads outside the circuit have exact damage ≈ 0, so their order is noise.)
    expect(auc).toBeGreaterThanOrEqual(0.9);
    const circuit = readZooCircuit(folder).heads;
    const ranked = heads.slice().sort((a, b) => res.nodes[b]! - res.nodes[a]!);
    const byExact = heads.slice().sort((a, b) => Math.abs(exact.nodes[b]!) - Math.abs(exact.nodes[a]!));
    expect(ranked.slice(0, circuit.length).sort()).toEqual(circuit);
    expect(byExact.slice(0, circuit.length).sort()).toEqual(circuit);
    expect(res.selected!.nodes.slice().sort()).toEqual(circuit);
  }, 60_000);

  it('fails clearly when no prompt is answered correctly, says when there are fewer prompts than asked, and checks its options', async () => {
    const model = await HookedTransformer.load(SORT, { offline: true, quiet: true });
    const clean = [0, 2, 1, 2, 0, 1, 0, 0, 1, 1, 2];
    const corrupt = [1, 0, 2, 1, 0, 2, 0, 0, 1, 2, 2];
    const logits = model.forward([clean]); // [1, pos, 3]
    const lastRow = Array.from(logits.data.subarray((clean.length - 1) * 3, clean.length * 3));
    const wrong = (lastRow.indexOf(Math.max(...lastRow)) + 1) % 3;
    const task = taskFromJson({ name: 'never-right', metric: 'logprob', prompts: [{ clean, corrupt, answers: [wrong] }] }, model, {}, 'test');
    expect(errorOf(() => saeCodes.discover(model, task, {})).message).toMatch(/answers none of the 1 prompts.*--sae-positives all/);
    const forced = saeCodes.discover(model, task, { saePositives: 'all', saeSteps: 20 });
    expect(forced.extra!.positives).toBe(1);
    expect((forced.extra!.notes as string[]).join(' ')).toMatch(/asked for 10 training examples but there are only 2/);
    const sort = makeTask('sort', model, { n: 4, seed: 1 });
    for (const [opts, msg] of [
      [{ trials: 0 }, /trials must be an integer ≥ 1/],
      [{ saeL1: -1 }, /saeL1 must be a number ≥ 0/],
      [{ saeLr: 0 }, /saeLr must be a number > 0/],
      [{ saePositives: 'some' }, /saePositives must be one of correct, all/],
      [{ saeThreshold: 1.5 }, /softmax probability and must be < 1/],
      [{ saeNormalise: 'yes' }, /saeNormalise must be true or false/],
      [{ saeFeatures: 1 }, /saeFeatures must be an integer ≥ 2/],
    ] as const) expect(errorOf(() => saeCodes.discover(model, sort, opts)).message).toMatch(msg);
  }, 60_000);
});
