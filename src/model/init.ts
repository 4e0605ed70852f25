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
