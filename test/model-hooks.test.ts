/** Hook semantics on tiny-gpt2-random: patching, split inputs, per-head results, gradients, names, token and loader errors. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import type { Tensor } from '../src/tensor/index.js';
import { HookedTransformer } from '../src/model/hooked-transformer.js';
import { expectClose } from './helpers.js';
import { SHARED } from './shared.js';

const FOLDER = path.join(SHARED, 'models/tiny-gpt2-random');
const TOKENS = [[0, 17, 99, 4, 250, 33, 7, 12], [0, 5, 5, 5, 9, 200, 1, 2]];
const maxAbsDiff = (a: Tensor, b: Tensor): number => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i]!)), 0);
/** Σ_b logits[b, −1, 7] − logits[b, −1, 42] */
const metric = (logits: Tensor): Tensor => {
  const last = T.slice(logits, 1, -1);
  return T.sub(T.sum(T.slice(last, 2, 7, 8)), T.sum(T.slice(last, 2, 42, 43)));
};

let model: HookedTransformer;
beforeAll(async () => {
  model = await HookedTransformer.load(FOLDER);
});

describe('forward hooks', () => {
  it('a hook that returns nothing leaves the logits unchanged; a replacement changes them', () => {
    const clean = model.forward(TOKENS);
    let seen: number[] = [];
    const same = model.runWithHooks(TOKENS, { fwd: [['blocks.0.attn.hook_z', (z) => void (seen = [...z.shape])]] });
    expect(seen).toEqual([2, 8, 4, 16]);
    expect(maxAbsDiff(same, clean)).toBe(0);
    const zeroed = model.runWithHooks(TOKENS, { fwd: [['blocks.1.hook_mlp_out', (x) => T.zeros(x.shape)]] });
    expect(maxAbsDiff(zeroed, clean)).toBeGreaterThan(1e-3);
    // zeroing hook_mlp_out equals resid_post = resid_mid: check through the cache
    const { cache } = model.runWithCache(TOKENS, { names: ['blocks.1.hook_resid_mid', 'blocks.1.hook_resid_post'], fwd: [['blocks.1.hook_mlp_out', (x) => T.zeros(x.shape)]] });
    expect(maxAbsDiff(cache.get('blocks.1.hook_resid_post'), cache.get('blocks.1.hook_resid_mid'))).toBe(0);
  });

  it('name filters select hook points; hook context carries name and layer', () => {
    const ctxs: string[] = [];
    model.runWithHooks(TOKENS, { fwd: [[(n) => n.endsWith('hook_pattern'), (_x, ctx) => void ctxs.push(`${ctx.name}@${ctx.layer}`)]] });
    expect(ctxs).toEqual(['blocks.0.attn.hook_pattern@0', 'blocks.1.attn.hook_pattern@1']);
    const { cache } = model.runWithCache(TOKENS, { names: (n) => n.startsWith('ln_final') });
    expect(cache.names()).toEqual(['ln_final.hook_scale', 'ln_final.hook_normalized']);
  });

  it('unknown hook names, wrong replacement shapes and missing cache entries are clear errors', () => {
    expect(() => model.runWithHooks(TOKENS, { fwd: [['blocks.0.attn.hook_zz', () => {}]] })).toThrow(/unknown hook point "blocks.0.attn.hook_zz"/);
    expect(() => model.runWithCache(TOKENS, { names: ['blocks.0.hook_mlp_in'] })).toThrow(/unknown hook point/);
    expect(() => model.runWithHooks(TOKENS, { fwd: [['blocks.0.hook_attn_out', (x) => T.slice(x, 1, 1)]] })).toThrow(/returned \[2, 7, 64\], but the activation is \[2, 8, 64\]/);
    const { cache } = model.runWithCache(TOKENS, { names: ['hook_embed'] });
    expect(() => cache.get('hook_pos_embed')).toThrow(/was not cached/);
  });
});

describe('per-head results and split inputs', () => {
  it('attn.hook_result summed over heads plus b_O is hook_attn_out; patching one head moves attn_out by exactly its result', () => {
    const { cache } = model.runWithCache(TOKENS, { names: ['blocks.0.attn.hook_result', 'blocks.0.hook_attn_out'] });
    const result = cache.get('blocks.0.attn.hook_result'); // [batch, pos, head, d_model]
    const summed = T.add(T.sum(result, 2), model.weight('blocks.0.attn.b_O'));
    expectClose(summed.data, cache.get('blocks.0.hook_attn_out').data, 1e-5);
    const zeroHead2 = (x: Tensor): Tensor => T.mul(x, T.tensor([1, 1, 0, 1]).reshape(1, 1, 4, 1));
    const patched = model.runWithCache(TOKENS, { names: ['blocks.0.hook_attn_out'], fwd: [['blocks.0.attn.hook_result', zeroHead2]] }).cache.get('blocks.0.hook_attn_out');
    const head2 = T.slice(result, 2, 2, 3).reshape(2, 8, 64);
    expectClose(T.add(patched, head2).data, cache.get('blocks.0.hook_attn_out').data, 1e-5);
  });

  it('split inputs give the same logits, per-head inputs [batch, pos, head, d_model], and patch one head only', () => {
    const clean = model.forward(TOKENS);
    const split = model.runWithCache(TOKENS, { splitInputs: true, names: ['blocks.1.hook_q_input', 'blocks.1.attn.hook_q', 'blocks.1.hook_mlp_in'] });
    expect(maxAbsDiff(split.logits, clean)).toBeLessThan(1e-5);
    expect(split.cache.get('blocks.1.hook_q_input').shape).toEqual([2, 8, 4, 64]);
    expect(split.cache.get('blocks.1.hook_mlp_in').shape).toEqual([2, 8, 64]);
    // Zero the residual stream that only head 1's query reads in layer 1.
    const mask = T.tensor([1, 0, 1, 1]).reshape(1, 1, 4, 1);
    const patched = model.runWithCache(TOKENS, { splitInputs: true, names: ['blocks.1.attn.hook_q', 'blocks.1.attn.hook_k'], fwd: [['blocks.1.hook_q_input', (x) => T.mul(x, mask)]] });
    const q0 = split.cache.get('blocks.1.attn.hook_q');
    const q1 = patched.cache.get('blocks.1.attn.hook_q'); // [batch, pos, head, d_head]
    for (let h = 0; h < 4; h++) {
      const d = maxAbsDiff(T.slice(q1, 2, h, h + 1), T.slice(q0, 2, h, h + 1));
      if (h === 1) expect(d).toBeGreaterThan(1e-3);
      else expect(d).toBe(0);
    }
  });
});

describe('gradients at hook points', () => {
  it('d(metric)/d(ln1.hook_scale) matches a central difference through a patching hook', () => {
    const name = 'blocks.1.ln1.hook_scale'; // [batch, pos, 1]
    const g = model.gradients(TOKENS, metric, { names: [name] }).grads.get(name);
    expect(g.shape).toEqual([2, 8, 1]);
    const at = (delta: number): number => metric(model.runWithHooks(TOKENS, { fwd: [[name, (x) => { const y = x.clone(); y.data[1 * 8 + 7]! += delta; return y; }]] })).item();
    const h = 1e-2;
    const numeric = (at(h) - at(-h)) / (2 * h);
    expect(Math.abs(g.data[15]! - numeric)).toBeLessThan(2e-2 * Math.max(1, Math.abs(numeric)));
    expect(Math.abs(numeric)).toBeGreaterThan(1e-3);
  });

  it('hook points carrying the same values get their own gradients (resid_mid vs mlp_in)', () => {
    const names = ['blocks.1.hook_resid_mid', 'blocks.1.hook_mlp_in', 'blocks.1.hook_mlp_out'];
    const r = model.gradients(TOKENS, metric, { names, splitInputs: true });
    const gMid = r.grads.get(names[0]!);
    const gIn = r.grads.get(names[1]!);
    const gOut = r.grads.get(names[2]!);
    // resid_mid feeds the residual (gradient = d/d resid_post = gOut) and the MLP (gradient gIn)
    expectClose(gMid.data, T.add(gIn, gOut).data, 1e-4);
    expect(maxAbsDiff(gIn, gMid)).toBeGreaterThan(1e-4);
  });

  it('freezing the LayerNorm scale with a hook changes the gradient upstream', () => {
    const names = ['blocks.1.hook_resid_pre'];
    const free = model.gradients(TOKENS, metric, { names }).grads.get(names[0]!);
    const frozen = model.gradients(TOKENS, metric, { names, fwd: [['blocks.1.ln1.hook_scale', (s) => s.detach()], ['blocks.1.ln2.hook_scale', (s) => s.detach()], ['ln_final.hook_scale', (s) => s.detach()]] }).grads.get(names[0]!);
    expect(maxAbsDiff(free, frozen)).toBeGreaterThan(1e-4);
  });
});

describe('weights by TransformerLens name', () => {
  it('hook_q = ln1.hook_normalized · W_Q[h] + b_Q[h]; hook_attn_out = Σ_h z·W_O[h] + b_O', () => {
    const { cache } = model.runWithCache(TOKENS);
    const wq = model.weight('blocks.0.attn.W_Q'); // [head, d_model, d_head]
    const bq = model.weight('blocks.0.attn.b_Q'); // [head, d_head]
    expect(wq.shape).toEqual([4, 64, 16]);
    const x = cache.get('blocks.0.ln1.hook_normalized'); // [batch, pos, d_model]
    const q2 = T.add(T.matmul(x, T.slice(wq, 0, 2, 3).reshape(64, 16)), T.slice(bq, 0, 2, 3).reshape(16));
    expectClose(q2.data, T.slice(cache.get('blocks.0.attn.hook_q'), 2, 2, 3).reshape(2, 8, 16).data, 1e-5);
    expect(model.weight('W_U').shape).toEqual([64, 256]);
    expect(() => model.weight('blocks.9.attn.W_Q')).toThrow(/no weight named/);
  });
});

describe('tokens and text', () => {
  it('out-of-vocabulary ids, over-long and ragged inputs are clear errors', () => {
    expect(() => model.forward([[1, 2, 256]])).toThrow(/256 at \[0, 2\] is not a token id of tiny-gpt2-random \(vocabulary 0…255\)/);
    expect(() => model.forward([Array.from({ length: 33 }, () => 1)])).toThrow(/33 positions is longer than tiny-gpt2-random's context of 32/);
    expect(() => model.forward([[1, 2], [3]])).toThrow(/prompt 1 has 1 tokens but prompt 0 has 2/);
    expect(() => model.forward([[1.5]])).toThrow(/not a token id/);
    expect(() => model.forward([])).toThrow(/empty/);
  });
  it('toTokens prepends BOS; toStrTokens shows each token; generate stops at the context', () => {
    expect(Array.from(model.toTokens('5 6 7').data)).toEqual([0, 5, 6, 7]);
    expect(Array.from(model.toTokens('5 6 7', { prependBos: false }).data)).toEqual([5, 6, 7]);
    expect(model.toStrTokens([3, 4])).toEqual(['3', '4']);
    const g = model.generate([1, 2, 3], { maxNewTokens: 100, stopAtEos: false });
    expect(g.tokens.length).toBe(32);
    expect(g.stop).toBe('context');
    // greedy: each new token is the argmax of the forward pass on the tokens before it
    const logits = model.forward([g.tokens.slice(0, 10)]);
    expect(g.tokens[10]).toBe(T.argmax(T.slice(logits, 1, -1).reshape(256)).data[0]);
  });
});

describe('loading errors', () => {
  const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'cs-model-'));
  it('a config.json that does not match the weights names the weight and both shapes', async () => {
    const dir = tmp();
    try {
      const cfg = JSON.parse(fs.readFileSync(path.join(FOLDER, 'config.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, n_positions: 64 }));
      fs.copyFileSync(path.join(FOLDER, 'model.safetensors'), path.join(dir, 'model.safetensors'));
      await expect(HookedTransformer.load(dir)).rejects.toThrow(/weight "wpe.weight" has shape \[32, 64\], but config.json implies \[64, 64\]/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('an unsupported model_type lists the supported ones', async () => {
    const dir = tmp();
    try {
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'mamba' }));
      fs.copyFileSync(path.join(FOLDER, 'model.safetensors'), path.join(dir, 'model.safetensors'));
      await expect(HookedTransformer.load(dir)).rejects.toThrow(/model_type "mamba" is not supported/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a folder without weights says what is missing', async () => {
    const dir = tmp();
    try {
      fs.copyFileSync(path.join(FOLDER, 'config.json'), path.join(dir, 'config.json'));
      await expect(HookedTransformer.load(dir)).rejects.toThrow(/model\.safetensors/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
