/**
 * Exact parity of the hooked GPT-2 with an independent implementation: ../shared/reference holds the
 * logits, every TransformerLens hook activation and finite-difference gradients for tiny-gpt2-random,
 * and PyTorch-made activations for the trained gpt-nano-sort.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { type LoadedTensors, type Tensor, loadTensors } from '../src/tensor/index.js';
import { HookedTransformer } from '../src/model/hooked-transformer.js';
import { SHARED } from './shared.js';

/** max |a − b| / max |b| over finite entries; masked (−∞) entries must match exactly. */
function relMax(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let mx = 0;
  let d = 0;
  for (let i = 0; i < b.size; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (!Number.isFinite(y)) {
      if (x !== y) return Infinity;
      continue;
    }
    mx = Math.max(mx, Math.abs(y));
    d = Math.max(d, Math.abs(x - y));
  }
  return d / mx;
}

/** ‖a − b‖ / ‖b‖. */
function relNorm(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let n = 0;
  let d = 0;
  for (let i = 0; i < b.size; i++) {
    n += b.data[i]! ** 2;
    d += (a.data[i]! - b.data[i]!) ** 2;
  }
  return Math.sqrt(d / n);
}

describe('tiny-gpt2-random against the reference', () => {
  let model: HookedTransformer;
  let ref: LoadedTensors;
  beforeAll(async () => {
    model = await HookedTransformer.load(path.join(SHARED, 'models/tiny-gpt2-random'));
    ref = loadTensors(path.join(SHARED, 'reference/tiny-gpt2-random.safetensors'));
  });

  it('has exactly the reference hook points (hook_result included)', () => {
    const refNames = [...ref.floats.keys()].filter((k) => k.startsWith('cache.')).map((k) => k.slice(6));
    expect(refNames.length).toBe(2 + 2 * 18 + 2); // embeddings, 18 per block, ln_final
    expect(new Set(model.hookNames())).toEqual(new Set(refNames));
  });

  it('logits and every cached activation within 1e-4 of the tensor max', () => {
    const { logits, cache } = model.runWithCache(ref.ints.get('tokens')!);
    expect(relMax(logits, ref.floats.get('logits')!)).toBeLessThan(1e-4);
    let checked = 0;
    for (const [k, v] of ref.floats) {
      if (!k.startsWith('cache.')) continue;
      const err = relMax(cache.get(k.slice(6)), v);
      if (!(err < 1e-4)) throw new Error(`${k}: relative error ${err}`);
      checked++;
    }
    expect(checked).toBe(40);
    // masked scores are −∞ exactly where key > query
    const scores = cache.get('blocks.0.attn.hook_attn_scores'); // [batch, head, query, key]
    expect(scores.get(0, 0, 2, 3)).toBe(-Infinity);
    expect(Number.isFinite(scores.get(0, 0, 3, 3))).toBe(true);
  });

  it('gradients of the logit-difference metric at hook points within 1e-3 of their norm', () => {
    const metric = (logits: Tensor): Tensor => {
      const last = T.slice(logits, 1, -1); // [batch, 1, d_vocab]
      return T.sub(T.sum(T.slice(last, 2, 7, 8)), T.sum(T.slice(last, 2, 42, 43)));
    };
    const names = [...ref.floats.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
    expect(names.length).toBe(4);
    const r = model.gradients(ref.ints.get('tokens')!, metric, { names });
    expect(Math.abs(r.value - ref.floats.get('metric')!.data[0]!)).toBeLessThan(1e-4 * Math.abs(r.value) + 1e-5);
    for (const n of names) {
      const err = relNorm(r.grads.get(n), ref.floats.get(`grad.${n}`)!);
      if (!(err < 1e-3)) throw new Error(`grad.${n}: relative error ${err}`);
    }
  });
});

describe('gpt-nano-sort (a trained model)', () => {
  let model: HookedTransformer;
  beforeAll(async () => {
    model = await HookedTransformer.load(path.join(SHARED, 'models/gpt-nano-sort'));
  });

  it('logits and cached activations match the PyTorch reference within 1e-4', () => {
    const ref = loadTensors(path.join(SHARED, 'reference/gpt-nano-sort.safetensors'));
    const { logits, cache } = model.runWithCache(ref.ints.get('tokens')!);
    expect(relMax(logits, ref.floats.get('logits')!)).toBeLessThan(1e-4);
    expect(relMax(T.softmax(logits, -1), ref.floats.get('probs')!)).toBeLessThan(1e-4);
    for (const n of ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post', 'ln_final.hook_normalized']) {
      expect(relMax(cache.get(n), ref.floats.get(`cache.${n}`)!)).toBeLessThan(1e-4);
    }
  });

  it('sorts all 729 inputs by greedy next-token prediction', () => {
    const inputs = Array.from({ length: 729 }, (_, i) => Array.from({ length: 6 }, (_, j) => Math.floor(i / 3 ** j) % 3));
    const seqs = inputs.map((d) => model.generate(d, { maxNewTokens: 5 }).tokens); // 6 digits + 5 greedy
    expect(seqs.every((s) => s.length === 11)).toBe(true);
    const logits = T.noGrad(() => model.forward(seqs)); // [729, 11, 3]
    const pred = T.argmax(T.slice(logits, 1, 5), -1); // [729, 6]: predictions at positions 5…10
    let sorted = 0;
    inputs.forEach((d, b) => {
      const want = [...d].sort((x, y) => x - y);
      if (want.every((v, j) => pred.data[b * 6 + j] === v)) sorted++;
    });
    expect(sorted).toBe(729);
  });
});
