/**
 * Head sparsity: a group-lasso penalty λ·Σ_{layer, head} ‖θ[layer, head]‖ over each attention head's
 * own weights θ = (W_Q, W_K, W_V, W_O). A head the task does not need pays λ·‖θ‖ for nothing and is
 * driven to zero as a whole (W_O → 0: it writes nothing; W_Q, W_K → 0: its pattern becomes uniform, so it
 * does not look like a head of any kind); a head that others already duplicate is dropped. Zoo models use
 * it so that their circuit is the few heads the task needs, not a task spread over redundant helpers.
 * Only the gradient is added (to the loss's gradient, before clipping): λ·θ/‖θ‖.
 */
import { CircuitscopeError } from '../../util/errors.js';
import type { HookedTransformer } from '../hooked-transformer.js';
import { Tensor } from '../../tensor/index.js';

/** One layer's attention weights, GPT-2 Conv1D layout: c_attn [d_model, 3·d_model] (q | k | v), c_proj [n_head·d_head, d_model]. */
function layerWeights(model: HookedTransformer, l: number): [Tensor, Tensor] {
  const get = (name: string): Tensor => {
    const w = model.params.get(name);
    if (!w) throw new CircuitscopeError(`train: head sparsity needs GPT-2 attention weights (${name}), which this model does not have`, 'train a GPT-2-architecture model, or drop head_sparsity from the recipe');
    return w;
  };
  return [get(`h.${l}.attn.c_attn.weight`), get(`h.${l}.attn.c_proj.weight`)];
}

/** Calls f(tensor, flat index) for every weight of head h: its q, k, v columns of c_attn and its rows of c_proj. */
function forHead(model: HookedTransformer, l: number, h: number, f: (w: Tensor, i: number) => void): void {
  const { dModel: d, dHead: dh } = model.cfg;
  const [qkv, o] = layerWeights(model, l);
  for (let r = 0; r < d; r++) for (let part = 0; part < 3; part++) for (let c = part * d + h * dh; c < part * d + (h + 1) * dh; c++) f(qkv, r * 3 * d + c);
  for (let i = h * dh * d; i < (h + 1) * dh * d; i++) f(o, i);
}

/** ‖θ[layer, head]‖ for every head: [layer][head]. */
export function headNorms(model: HookedTransformer): number[][] {
  return Array.from({ length: model.cfg.nLayers }, (_, l) =>
    Array.from({ length: model.cfg.nHeads }, (_, h) => {
      let sq = 0;
      forHead(model, l, h, (w, i) => { sq += w.data[i]! * w.data[i]!; });
      return Math.sqrt(sq);
    }),
  );
}

/** The penalty's value λ·Σ‖θ[layer, head]‖. */
export function headSparsityPenalty(model: HookedTransformer, lambda: number): number {
  return lambda * headNorms(model).flat().reduce((a, b) => a + b, 0);
}

/** Adds the penalty's gradient λ·θ/‖θ‖ to the weights' gradients (a head at exactly 0 gets none; frozen weights none). */
export function addHeadSparsityGrad(model: HookedTransformer, lambda: number): void {
  if (lambda === 0) return;
  const norms = headNorms(model);
  for (let l = 0; l < model.cfg.nLayers; l++) {
    const grads = new Map<Tensor, Float32Array>();
    for (const w of layerWeights(model, l)) if (w.grad) grads.set(w, Float32Array.from(w.grad.data));
    for (let h = 0; h < model.cfg.nHeads; h++) {
      const n = norms[l]![h]!;
      if (n === 0) continue;
      forHead(model, l, h, (w, i) => {
        const g = grads.get(w);
        if (g) g[i] = g[i]! + (lambda / n) * w.data[i]!;
      });
    }
    for (const [w, g] of grads) w.grad = new Tensor(g, w.shape);
  }
}
