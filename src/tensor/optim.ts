/**
 * Adam and AdamW (PyTorch semantics). Adam's weight decay is L2 added to the gradient; AdamW's is decoupled
 * (p ← p − lr·wd·p before the Adam update). The learning rate may change every step.
 */
import { CircuitscopeError } from '../util/errors.js';
import { getBackend } from './backend-select.js';
import { fmtShape } from './shape.js';
import type { Tensor } from './tensor.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** true = AdamW (decoupled weight decay). */
  decoupled?: boolean;
}

/** Everything needed to resume an optimiser exactly. */
export interface AdamState {
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class Adam {
  readonly params: Tensor[];
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  stepCount = 0;
  private m: Float32Array[];
  private v: Float32Array[];

  constructor(params: Tensor[], opts: AdamOptions = {}) {
    if (params.length === 0) throw new CircuitscopeError('Adam: no parameters to optimise');
    this.params = params;
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.decoupled = opts.decoupled ?? false;
    this.m = params.map((p) => new Float32Array(p.size));
    this.v = params.map((p) => new Float32Array(p.size));
  }

  /** One update from each parameter's `.grad` (parameters without a gradient are skipped). */
  step(lr: number = this.lr): void {
    this.stepCount++;
    const t = this.stepCount;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this;
    const bc1 = 1 - Math.pow(b1, t);
    const bc2 = 1 - Math.pow(b2, t);
    const stepSize = lr / bc1;
    const rbc2 = 1 / Math.sqrt(bc2);
    const ew = getBackend().elementwise;
    this.params.forEach((p, k) => {
      if (!p.grad) return;
      const g = p.grad.data;
      if (g.length !== p.size) throw new CircuitscopeError(`Adam: gradient ${fmtShape(p.grad.shape)} does not match parameter ${fmtShape(p.shape)}`);
      const w = p.data;
      const m = this.m[k]!;
      const v = this.v[k]!;
      const l2 = this.decoupled ? 0 : wd;
      const shrink = this.decoupled ? 1 - lr * wd : 1;
      if (ew) return ew.adamUpdate(w, g, m, v, b1, b2, eps, l2, shrink, stepSize, rbc2);
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]! + l2 * w[i]!;
        const mi = b1 * m[i]! + (1 - b1) * gi;
        const vi = b2 * v[i]! + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi) * rbc2 + eps);
      }
    });
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  state(): AdamState {
    return { step: this.stepCount, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  loadState(s: AdamState): void {
    if (s.m.length !== this.params.length || s.m.some((a, i) => a.length !== this.params[i]!.size)) {
      throw new CircuitscopeError('Adam: the saved optimiser state does not match these parameters', 'resume with the same model/dictionary shape');
    }
    this.stepCount = s.step;
    this.m = s.m.map((a) => a.slice());
    this.v = s.v.map((a) => a.slice());
  }
}

/** AdamW: Adam with decoupled weight decay (default 0.01, as in PyTorch). */
export class AdamW extends Adam {
  constructor(params: Tensor[], opts: Omit<AdamOptions, 'decoupled'> = {}) {
    super(params, { weightDecay: 0.01, ...opts, decoupled: true });
  }
}
