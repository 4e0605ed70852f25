/**
 * Hooked building blocks shared by the families: LayerNorm with hook_scale/hook_normalized, the
 * attention core (scores → pattern → z), per-head projections for split inputs and per-head results,
 * and the activation registry. Each takes the hook-name prefix it fires under, e.g. 'blocks.3.attn.'.
 */
import { CircuitscopeError } from '../util/errors.js';
import * as T from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import type { HookRun } from './hooks.js';

/** σ = √(var + eps) per row, kept as [..., 1] like TransformerLens's hook_scale. */
function lnScale(centered: Tensor, eps: number): Tensor {
  return T.sqrt(T.add(T.mean(T.square(centered), -1, true), eps));
}

/**
 * LayerNorm over d_model firing `${prefix}hook_scale` [..., 1] and `${prefix}hook_normalized` [..., d_model]
 * (x̂·w + b, as TransformerLens without folding). The fused kernel runs unless a hook or a gradient
 * targets hook_scale (e.g. to freeze it); then the scale is an explicit, hookable tensor.
 */
export function hookedLayerNorm(x: Tensor, w: Tensor, b: Tensor, eps: number, prefix: string, run: HookRun): Tensor {
  const scaleName = `${prefix}hook_scale`;
  const normName = `${prefix}hook_normalized`;
  if (run.touches(scaleName)) {
    const centered = T.sub(x, T.mean(x, -1, true)); // [..., d_model]
    const scale = run.apply(scaleName, lnScale(centered, eps)); // [..., 1]
    return run.apply(normName, T.add(T.mul(T.div(centered, scale), w), b));
  }
  if (run.caches(scaleName)) run.store(scaleName, T.noGrad(() => lnScale(T.sub(x, T.mean(x, -1, true)), eps)));
  return run.apply(normName, T.layerNorm(x, w, b, eps));
}

/** x [batch, pos, d] → [batch, pos, head, d], one copy of the residual stream per head. */
export function repeatHeads(x: Tensor, nHeads: number): Tensor {
  const [b, p, d] = x.shape as [number, number, number];
  return T.broadcastTo(x.reshape(b, p, 1, d), [b, p, nHeads, d]);
}

/** Per-head affine map: x [batch, pos, head, d_in] · w [head, d_in, d_out] (+ bias [head, d_out]) → [batch, pos, head, d_out]. */
export function perHeadLinear(x: Tensor, w: Tensor, bias: Tensor | null): Tensor {
  const [b, p, h, din] = x.shape as [number, number, number, number];
  const dout = w.shape[2]!;
  const xh = T.permute(x, [2, 0, 1, 3]).reshape(h, b * p, din); // [head, batch·pos, d_in]
  let y = T.matmul(xh, w); // [head, batch·pos, d_out]
  if (bias) y = T.add(y, bias.reshape(h, 1, dout));
  return T.permute(y.reshape(h, b, p, dout), [1, 2, 0, 3]); // [batch, pos, head, d_out]
}

/**
 * Causal self-attention from hooked q, k, v [batch, pos, head, d_head] (k, v already repeated to all
 * heads for grouped-query models). Fires hook_attn_scores (masked = −∞) and hook_pattern
 * [batch, head, query, key], and hook_z [batch, pos, head, d_head].
 */
export function attentionCore(q: Tensor, k: Tensor, v: Tensor, prefix: string, run: HookRun): Tensor {
  const dHead = q.shape[3]!;
  const raw = T.headScores(q, k, 1 / Math.sqrt(dHead)); // [batch, head, query, key]
  const scores = run.apply(`${prefix}hook_attn_scores`, T.causalMask(raw));
  const pattern = run.apply(`${prefix}hook_pattern`, T.softmax(scores, -1)); // [batch, head, query, key]
  return run.apply(`${prefix}hook_z`, T.headMix(pattern, v)); // [batch, pos, head, d_head]
}

/**
 * z [batch, pos, head, d_head] → attention output [batch, pos, d_model] through W_O stored
 * [head·d_head, d_model] (Conv1D, GPT-2) or, with `transW`, [d_model, head·d_head] (torch Linear, Llama).
 * When attn.hook_result is wanted, per-head outputs [batch, pos, head, d_model] (no bias) are computed,
 * hooked and summed, so patching one head's result changes the output.
 */
export function attentionOutput(z: Tensor, wO: Tensor, bO: Tensor | null, prefix: string, run: HookRun, opts: { transW?: boolean } = {}): Tensor {
  const [b, p, h, dh] = z.shape as [number, number, number, number];
  const name = `${prefix}hook_result`;
  if (!run.attnResult && !run.wants(name)) return T.linear(z.reshape(b, p, h * dh), wO, bO, opts); // [batch, pos, d_model]
  const wHeads = opts.transW
    ? T.permute(wO.reshape(wO.shape[0]!, h, dh), [1, 2, 0]) // [head, d_head, d_model]
    : wO.reshape(h, dh, wO.shape[1]!); // [head, d_head, d_model]
  const out = T.sum(run.apply(name, perHeadLinear(z, wHeads, null)), 2); // Σ over heads of [batch, pos, head, d_model]
  return bO ? T.add(out, bO) : out;
}

/** Activation functions by config.json name. */
const ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = {
  gelu_new: T.gelu,
  gelu_pytorch_tanh: T.gelu,
  gelu_fast: T.gelu,
  relu: T.relu,
  silu: (x) => T.mul(x, T.sigmoid(x)),
};

export function activation(name: string, source: string): (x: Tensor) => Tensor {
  const f = ACTIVATIONS[name];
  if (!f) throw new CircuitscopeError(`${source}: activation function "${name}" is not supported`, `supported: ${Object.keys(ACTIVATIONS).join(', ')}`);
  return f;
}

/** r = √(mean(x²) + eps) per row, kept as [..., 1] like TransformerLens's RMSNorm hook_scale. */
function rmsScale(x: Tensor, eps: number): Tensor {
  return T.sqrt(T.add(T.mean(T.square(x), -1, true), eps));
}

/**
 * RMSNorm over the last dim firing `${prefix}hook_scale` [..., 1] = √(mean(x²) + eps) and
 * `${prefix}hook_normalized` [..., d] = x / scale, then multiplying by w (TransformerLens's RMSNorm hooks;
 * its LayerNorm instead hooks x̂·w + b). The fused kernel runs unless a hook or gradient targets hook_scale.
 */
export function hookedRmsNorm(x: Tensor, w: Tensor, eps: number, prefix: string, run: HookRun): Tensor {
  const scaleName = `${prefix}hook_scale`;
  const normName = `${prefix}hook_normalized`;
  // As TransformerLens's RMSNorm: hook_normalized sees x/scale, before the weight.
  if (run.touches(scaleName)) {
    const scale = run.apply(scaleName, rmsScale(x, eps)); // [..., 1]
    return T.mul(run.apply(normName, T.div(x, scale)), w); // [..., d]
  }
  if (run.caches(scaleName)) run.store(scaleName, T.noGrad(() => rmsScale(x, eps)));
  if (!run.wants(normName)) return T.rmsNorm(x, w, eps); // fused, one pass
  return T.mul(run.apply(normName, T.rmsNorm(x, undefined, eps)), w); // [..., d]
}

const ropeCache = new Map<string, { cos: Tensor; sin: Tensor }>();

/** cos and sin [1, pos, 1, d_head/2] of the angles p·θ^(−2i/d_head), cached per (pos, d_head, θ). */
function ropeTables(nPos: number, dHead: number, theta: number): { cos: Tensor; sin: Tensor } {
  const key = `${nPos}/${dHead}/${theta}`;
  let t = ropeCache.get(key);
  if (!t) {
    const half = dHead / 2;
    const cos = new Float32Array(nPos * half);
    const sin = new Float32Array(nPos * half);
    for (let p = 0; p < nPos; p++) {
      for (let i = 0; i < half; i++) {
        const angle = p * Math.pow(theta, (-2 * i) / dHead);
        cos[p * half + i] = Math.cos(angle);
        sin[p * half + i] = Math.sin(angle);
      }
    }
    t = { cos: new T.Tensor(cos, [1, nPos, 1, half]), sin: new T.Tensor(sin, [1, nPos, 1, half]) };
    if (ropeCache.size > 64) ropeCache.clear();
    ropeCache.set(key, t);
  }
  return t;
}

/**
 * Rotary position embedding (differentiable) of x [batch, pos, head, d_head] at positions 0…pos−1, in
 * Hugging Face Llama's "rotate half" layout: dim i and dim i + d_head/2 form a pair rotated by
 * p·θ^(−2i/d_head). (Meta / llama2.c rotate adjacent pairs (2i, 2i+1) instead; their q/k weights are
 * converted to this layout by permuting rows within each head.)
 */
export function rotary(x: Tensor, theta: number): Tensor {
  const [, p, , d] = x.shape as [number, number, number, number];
  if (d % 2 !== 0) throw new CircuitscopeError(`rotary: d_head must be even, got ${d}`);
  const { cos, sin } = ropeTables(p, d, theta); // [1, pos, 1, d_head/2]
  const x1 = T.slice(x, 3, 0, d / 2); // [batch, pos, head, d_head/2]
  const x2 = T.slice(x, 3, d / 2); // [batch, pos, head, d_head/2]
  const r1 = T.sub(T.mul(x1, cos), T.mul(x2, sin)); // [batch, pos, head, d_head/2]
  const r2 = T.add(T.mul(x2, cos), T.mul(x1, sin)); // [batch, pos, head, d_head/2]
  return T.concat([r1, r2], 3); // [batch, pos, head, d_head]
}

/**
 * Grouped-query attention: x [batch, pos, kv_head, d] → [batch, pos, kv_head·groups, d], query head h
 * reading kv head ⌊h / groups⌋ (torch.repeat_interleave along the head axis, as TransformerLens and HF do).
 */
export function repeatKvHeads(x: Tensor, groups: number): Tensor {
  if (groups === 1) return x;
  const [b, p, kv, d] = x.shape as [number, number, number, number];
  return T.broadcastTo(x.reshape(b, p, kv, 1, d), [b, p, kv, groups, d]).reshape(b, p, kv * groups, d);
}
