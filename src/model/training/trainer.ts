/**
 * Trains a HookedTransformer's own parameters as a language model on batches that say which positions
 * are scored (a synthetic task stream scores only its answer positions). nanoGPT's recipe: AdamW with
 * weight decay on matrices only (not on norms, biases or positions), linear warm-up then cosine decay,
 * global gradient-norm clipping. Deterministic: the batch of step s is `batchAt(s)` (a pure function of
 * s supplied by the caller), initialisation is seeded, and every kernel is deterministic, so the same
 * seed gives the same bytes; checkpoints (atomic) hold the whole state, so `resume` continues bit for bit.
 */
import * as T from '../../tensor/index.js';
import { AdamW, type IntTensor, type Tensor } from '../../tensor/index.js';
import { CircuitscopeError } from '../../util/errors.js';
import { progress } from '../../util/progress.js';
import type { HookedTransformer } from '../hooked-transformer.js';
import { addHeadSparsityGrad } from './head-sparsity.js';
import { type LmCheckpointMeta, hasLmCheckpoint, readLmCheckpoint, writeLmCheckpoint } from './checkpoint.js';

/** One training batch: tokens and the (flat) positions whose next token is scored. */
export interface LmBatch {
  tokens: IntTensor; // [batch, pos]
  /** Flat indices b·pos + p of the scored positions. */
  rows: Int32Array; // [k]
  /** The next token at each scored position. */
  targets: IntTensor; // [k]
}

export interface LmTrainOptions {
  steps: number;
  lr: number;
  /** Linear warm-up steps (default 100). */
  warmupSteps?: number;
  /** Learning rate at the end of the cosine decay, as a fraction of lr (default 0.1). */
  minLrFraction?: number;
  /** AdamW weight decay on matrices (default 0.01). */
  weightDecay?: number;
  betas?: [number, number];
  /** Global gradient-norm clip (default 1; 0 = none). */
  gradClip?: number;
  /** Write `checkpoint.safetensors` into outDir every this many steps (0 = never). */
  checkpointEvery?: number;
  outDir?: string;
  /** Continue from outDir's checkpoint. */
  resume?: boolean;
  /** Settings a resumed run must share with its checkpoint (recipe, seed, …). */
  settings?: Record<string, unknown>;
  /** Checkpoint names of parameters kept fixed (e.g. 'wpe.weight' for frozen sinusoidal positions). */
  frozen?: readonly string[];
  /** Group-lasso penalty λ on each head's (W_Q, W_K, W_V, W_O) from step `fromStep` on (head-sparsity.ts; default none). */
  headSparsity?: { lambda: number; fromStep: number };
  /** Called after every step with the step's loss (e.g. logging, early checks). */
  onStep?: (step: number, loss: number) => void;
  /** Label of the progress bar. */
  label?: string;
  quiet?: boolean;
}

export interface LmTrainResult {
  /** Loss of every step run in this call (resumed runs start at the checkpoint's step). */
  losses: number[];
  startStep: number;
  steps: number;
  seconds: number;
}

/** Learning rate at step s: linear warm-up to lr, then cosine decay to minLrFraction·lr at the last step. */
export function lmLrAt(s: number, o: { steps: number; lr: number; warmupSteps: number; minLrFraction: number }): number {
  if (s < o.warmupSteps) return (o.lr * (s + 1)) / o.warmupSteps;
  const span = Math.max(1, o.steps - o.warmupSteps);
  const t = Math.min(1, (s - o.warmupSteps) / span);
  const lo = o.lr * o.minLrFraction;
  return lo + 0.5 * (o.lr - lo) * (1 + Math.cos(Math.PI * t));
}

/** Mean cross-entropy at the batch's scored positions: logits [batch, pos, vocab] → []. */
export function scoredLoss(logits: Tensor, batch: LmBatch): Tensor {
  const v = logits.shape[2]!;
  const flat = logits.reshape(-1, v); // [batch·pos, vocab]
  return T.crossEntropy(T.indexSelect(flat, 0, batch.rows), batch.targets); // []
}

/** Scales every gradient so that their global L2 norm is at most `clip`; returns the norm before clipping. */
function clipGradients(params: readonly Tensor[], clip: number): number {
  let sq = 0;
  for (const p of params) if (p.grad) for (const g of p.grad.data) sq += g * g;
  const norm = Math.sqrt(sq);
  if (!Number.isFinite(norm)) throw new CircuitscopeError(`training diverged: the gradient norm is ${norm}`, 'lower the learning rate or check the data');
  if (clip > 0 && norm > clip) {
    const k = clip / norm;
    for (const p of params) if (p.grad) p.grad = new T.Tensor(p.grad.data.map((g) => g * k), p.shape);
  }
  return norm;
}

/** Parameters split nanoGPT's way: matrices decay, vectors (norms, biases) do not; positions and tokens are matrices. */
function paramGroups(model: HookedTransformer, frozen: readonly string[]): { decay: Tensor[]; noDecay: Tensor[]; all: [string, Tensor][] } {
  for (const f of frozen) if (!model.params.has(f)) throw new CircuitscopeError(`train: cannot freeze "${f}": the model has no such parameter`, `parameters: ${[...model.params.keys()].slice(0, 6).join(', ')}, …`);
  const all = [...model.params.entries()].filter(([name]) => !frozen.includes(name));
  return { all, decay: all.filter(([, t]) => t.rank >= 2).map(([, t]) => t), noDecay: all.filter(([, t]) => t.rank < 2).map(([, t]) => t) };
}

function check(o: LmTrainOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new CircuitscopeError(`train: steps must be a positive integer, got ${o.steps}`);
  if (!(o.lr > 0)) throw new CircuitscopeError(`train: lr must be > 0, got ${o.lr}`);
  if ((o.checkpointEvery || o.resume) && !o.outDir) throw new CircuitscopeError('train: checkpoints and resume need an output folder');
}

/** Trains `model.params` in place; returns the losses. */
export function trainLm(model: HookedTransformer, batchAt: (step: number) => LmBatch, opts: LmTrainOptions): LmTrainResult {
  check(opts);
  const sched = { steps: opts.steps, lr: opts.lr, warmupSteps: opts.warmupSteps ?? 100, minLrFraction: opts.minLrFraction ?? 0.1 };
  const betas = opts.betas ?? [0.9, 0.95];
  const { decay, noDecay, all } = paramGroups(model, opts.frozen ?? []);
  const optDecay = new AdamW(decay, { lr: opts.lr, betas, weightDecay: opts.weightDecay ?? 0.01 });
  const optPlain = new AdamW(noDecay, { lr: opts.lr, betas, weightDecay: 0 });
  const settings = { ...opts.settings, ...sched, betas, weightDecay: opts.weightDecay ?? 0.01, gradClip: opts.gradClip ?? 1, ...(opts.frozen?.length ? { frozen: opts.frozen } : {}), ...(opts.headSparsity && { headSparsity: opts.headSparsity }) };
  let start = 0;
  if (opts.resume && hasLmCheckpoint(opts.outDir!)) {
    const meta: LmCheckpointMeta = readLmCheckpoint(opts.outDir!, all, [optDecay, optPlain], settings);
    start = meta.step;
  }
  for (const [, t] of all) t.requireGrad();
  const t0 = performance.now();
  const losses: number[] = [];
  const bar = progress(opts.label ?? 'train', opts.steps, { quiet: opts.quiet, fields: ['loss'] });
  bar.tick(start);
  try {
    for (let s = start; s < opts.steps; s++) {
      const batch = batchAt(s);
      const loss = T.withGradMode(true, () => scoredLoss(model.forward(batch.tokens), batch));
      const value = loss.item();
      if (!Number.isFinite(value)) throw new CircuitscopeError(`training diverged at step ${s}: loss is ${value}`, 'lower the learning rate');
      optDecay.zeroGrad();
      optPlain.zeroGrad();
      loss.backward();
      if (opts.headSparsity && s >= opts.headSparsity.fromStep) addHeadSparsityGrad(model, opts.headSparsity.lambda);
      clipGradients(all.map(([, t]) => t), opts.gradClip ?? 1);
      const lr = lmLrAt(s, sched);
      optDecay.step(lr);
      optPlain.step(lr);
      losses.push(value);
      opts.onStep?.(s, value);
      bar.tick(1, { loss: value.toFixed(4) });
      const every = opts.checkpointEvery ?? 0;
      if (every > 0 && (s + 1) % every === 0 && s + 1 < opts.steps) writeLmCheckpoint(opts.outDir!, all, [optDecay, optPlain], { step: s + 1, settings });
    }
  } finally {
    bar.stop();
    for (const [, t] of all) {
      t.requireGrad(false);
      t.grad = null;
    }
  }
  return { losses, startStep: start, steps: opts.steps, seconds: (performance.now() - t0) / 1000 };
}
