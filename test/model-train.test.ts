/**
 * The language-model trainer: the same seed gives the same bytes, an interrupted run resumed from its
 * checkpoint ends bit for bit where the uninterrupted one does, the schedule is the one documented,
 * training actually learns, and saved folders load back to the same logits.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { HookedTransformer, LM_CHECKPOINT_FILE, lmLrAt } from '../src/model/index.js';
import { addHeadSparsityGrad, headNorms, headSparsityPenalty } from '../src/model/training/head-sparsity.js';
import { type ZooRecipe, checkRecipe, recipeByName, trainZooModel, saveZooModel, zooAccuracy } from '../src/zoo/index.js';

/** A tiny version of induction-2l: 1 layer, 2 heads, d_model 16, 30 steps. */
function tinyRecipe(seed = 0): ZooRecipe {
  const r = recipeByName('induction-2l');
  return {
    ...r,
    name: 'tiny',
    config: { ...r.config, n_layer: 1, n_head: 2, n_embd: 16, n_positions: 24, vocab_size: 16 },
    train: { ...r.train, seed, steps: 30, batch: 8, warmup_steps: 5, task_options: { length: [3, 8], prefix: [0, 4] } },
    eval: { ...r.eval, n: 20, task_options: { length: 6 } },
  };
}

const bytesOf = (params: Map<string, T.Tensor>): Buffer => Buffer.concat([...params.values()].map((p) => Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength)));

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cs-train-'));
}

describe('trainLm', () => {
  it('reproduces a tiny model bit for bit from its seed, and another seed gives another model', () => {
    const a = trainZooModel(tinyRecipe(0), { quiet: true });
    const b = trainZooModel(tinyRecipe(0), { quiet: true });
    const c = trainZooModel(tinyRecipe(1), { quiet: true });
    expect(bytesOf(a.model.params).equals(bytesOf(b.model.params))).toBe(true);
    expect(a.losses).toEqual(b.losses);
    expect(bytesOf(a.model.params).equals(bytesOf(c.model.params))).toBe(false);
  });

  it('resumes an interrupted run from its checkpoint to the same bytes', () => {
    const dir = tmp();
    const full = trainZooModel(tinyRecipe(0), { quiet: true });
    expect(() =>
      trainZooModel(tinyRecipe(0), { quiet: true, outDir: dir, checkpointEvery: 10, onStep: (s) => { if (s === 23) throw new Error('killed'); } }),
    ).toThrow('killed');
    expect(fs.existsSync(path.join(dir, '.train', LM_CHECKPOINT_FILE))).toBe(true);
    const resumed = trainZooModel(tinyRecipe(0), { quiet: true, outDir: dir, checkpointEvery: 10, resume: true });
    expect(resumed.losses.length).toBe(10); // steps 20…29 after the checkpoint at 20
    expect(resumed.losses).toEqual(full.losses.slice(20));
    expect(bytesOf(resumed.model.params).equals(bytesOf(full.model.params))).toBe(true);
    // A resume under other settings is refused with one clear error.
    expect(() => trainZooModel({ ...tinyRecipe(0), train: { ...tinyRecipe(0).train, batch: 4 } }, { quiet: true, outDir: dir, resume: true })).toThrow(/other settings \(.*batch/);
  });

  it('learns: the loss falls and the saved folder loads back to the same logits', async () => {
    // A fixed segment length makes the copy a positional one a 1-layer model learns in a few steps.
    const r = { ...tinyRecipe(0), train: { ...tinyRecipe(0).train, steps: 150, lr: 1e-2, task_options: { length: 4 } } };
    const res = trainZooModel(r, { quiet: true });
    const first = res.losses.slice(0, 10).reduce((x, y) => x + y) / 10;
    const last = res.losses.slice(-10).reduce((x, y) => x + y) / 10;
    expect(first).toBeGreaterThan(Math.log(16) - 0.5);
    expect(last).toBeLessThan(first - 0.5);
    const dir = tmp();
    saveZooModel(dir, r, res, 150);
    const back = await HookedTransformer.load(dir, { offline: true, quiet: true });
    expect(back.cfg).toMatchObject({ nLayers: 1, nHeads: 2, dModel: 16, attnOnly: true, bosTokenId: 0 });
    const tokens = T.intTensor([0, 3, 5, 7, 3, 5], [1, 6]); // [batch, pos]
    const want = T.noGrad(() => res.model.forward(tokens));
    const got = T.noGrad(() => back.forward(tokens));
    expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer))).toBe(true);
    expect(zooAccuracy(back, r).accuracy).toBe(zooAccuracy(res.model, r).accuracy);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'recipe.json'), 'utf8'))).toMatchObject({ name: 'tiny', trained: { steps: 150 } });
  });

  it('follows warm-up then cosine decay to min_lr_fraction', () => {
    const o = { steps: 110, lr: 1, warmupSteps: 10, minLrFraction: 0.1 };
    expect(lmLrAt(0, o)).toBeCloseTo(0.1, 12);
    expect(lmLrAt(9, o)).toBeCloseTo(1, 12);
    expect(lmLrAt(10, o)).toBeCloseTo(1, 12);
    expect(lmLrAt(60, o)).toBeCloseTo(0.1 + 0.45, 12); // halfway: cos = 0
    expect(lmLrAt(110, o)).toBeCloseTo(0.1, 12);
  });

  it('head sparsity: the added gradient is the derivative of the penalty, and training with it switches unneeded heads off', () => {
    const { model } = trainZooModel(tinyRecipe(0), { quiet: true, steps: 1 });
    const qkv = model.params.get('h.0.attn.c_attn.weight')!; // [d_model = 16, 3·16]: q | k | v, head 0 = columns 0…7 of each
    const o = model.params.get('h.0.attn.c_proj.weight')!; // [n_head·d_head = 16, d_model = 16], head 0 = rows 0…7
    const head0 = (c: number): boolean => c % 16 < 8;
    for (let i = 0; i < qkv.size; i++) if (head0(i % 48)) qkv.data[i] = 0;
    for (let i = 0; i < 8 * 16; i++) o.data[i] = 0; // head 0 off: its norm is 0 and it gets no gradient
    for (const w of [qkv, o]) w.grad = T.zeros(w.shape);
    addHeadSparsityGrad(model, 0.5);
    expect(o.grad!.data.slice(0, 128).every((x) => x === 0)).toBe(true);
    expect([...qkv.grad!.data].every((x, i) => !head0(i % 48) || x === 0)).toBe(true);
    // Central differences of λ·Σ‖θ[h]‖ at entries of head 1's q, k, v and W_O.
    for (const [w, i] of [[qkv, 2 * 48 + 9], [qkv, 5 * 48 + 25], [qkv, 7 * 48 + 44], [o, 128], [o, 200], [o, 255]] as const) {
      const x = w.data[i]!;
      w.data[i] = x + 1e-3;
      const up = headSparsityPenalty(model, 0.5);
      w.data[i] = x - 1e-3;
      const down = headSparsityPenalty(model, 0.5);
      w.data[i] = x;
      expect(w.grad!.data[i]).toBeCloseTo((up - down) / 2e-3, 3);
      expect(w.grad!.data[i]).not.toBe(0);
    }
    expect(headSparsityPenalty(model, 0.5)).toBeCloseTo(0.5 * headNorms(model)[0]![1]!, 6);
    // A fixed-length copy needs one head of the two; a strong penalty leaves the other near 0.
    const r = { ...tinyRecipe(0), train: { ...tinyRecipe(0).train, steps: 150, lr: 1e-2, task_options: { length: 4 } } };
    const plain = headNorms(trainZooModel(r, { quiet: true }).model)[0]!;
    const sparse = headNorms(trainZooModel({ ...r, train: { ...r.train, head_sparsity: { lambda: 0.05, from_step: 0 } } }, { quiet: true }).model)[0]!;
    expect(Math.min(...sparse)).toBeLessThan(0.2 * Math.min(...plain));
  });

  it('refuses bad settings with one clear error', () => {
    expect(() => trainZooModel({ ...tinyRecipe(0), train: { ...tinyRecipe(0).train, lr: 0 } }, { quiet: true })).toThrow(/lr must be > 0/);
    expect(() => trainZooModel(tinyRecipe(0), { quiet: true, steps: 0 })).toThrow(/steps must be a positive integer/);
    expect(() => checkRecipe({ ...tinyRecipe(0), train: { ...tinyRecipe(0).train, head_sparsity: { lambda: -1, from_step: 0 } } }, 'recipe.json')).toThrow(/head_sparsity must be \{ "lambda": number ≥ 0/);
  });
});
