/**
 * Fresh parameters for a config, GPT-2 style: matrices ~ N(0, 0.02²), norm weights 1, biases 0.
 * Used to write random checkpoints (bench, tests) and as the starting point of training.
 */
import { Rng } from '../util/rng.js';
import { Tensor, randn } from '../tensor/index.js';
import type { ModelConfig } from './config.js';
import { type Params, familyByName } from './families/index.js';

export function initParams(cfg: ModelConfig, rng: Rng = new Rng(0), std = 0.02): Params {
  const params: Params = new Map();
  for (const [name, shape] of familyByName(cfg.family).paramShapes(cfg)) {
    if (shape.length > 1) params.set(name, randn(shape, rng, std));
    else params.set(name, new Tensor(new Float32Array(shape[0]!).fill(/norm[^.]*\.weight$|(^|\.)ln[^.]*\.weight$/.test(name) ? 1 : 0), shape));
  }
  return params;
}

/**
 * Sinusoidal position rows (Vaswani et al.) scaled by `amplitude`: row p, column 2i = sin(p / base^(2i/d)),
 * column 2i+1 = cos(…). Any shift p → p − 1 is the same rotation for every p, so a head can learn "attend
 * to the previous token" once for all positions (with learned rows it must learn it per position).
 */
export function sinusoidalPositions(nCtx: number, dModel: number, amplitude: number, base = 10000): Tensor {
  const out = new Tensor(new Float32Array(nCtx * dModel), [nCtx, dModel]); // [n_ctx, d_model]
  for (let p = 0; p < nCtx; p++) {
    for (let i = 0; 2 * i < dModel; i++) {
      const angle = p / Math.pow(base, (2 * i) / dModel);
      out.data[p * dModel + 2 * i] = amplitude * Math.sin(angle);
      if (2 * i + 1 < dModel) out.data[p * dModel + 2 * i + 1] = amplitude * Math.cos(angle);
    }
  }
  return out;
}
