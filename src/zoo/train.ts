/**
 * Training a zoo model from its recipe and writing its folder: config.json + model.safetensors (+
 * tokenizer.json), recipe.json with what the run measured. Checkpoints go to the output folder every
 * `checkpointEvery` steps and `resume` continues an interrupted run bit for bit.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as T from '../tensor/index.js';
import { type HookedTransformer, type LmBatch, saveModelFolder, trainLm } from '../model/index.js';
import { Markov2Source, withBackground } from './background.js';
import { type Task, makeTask } from '../tasks/index.js';
import { writeJsonAtomic } from '../util/files.js';
import type { ZooRecipe } from './recipe.js';
import { freshZooModel, tokenizerFiles } from './model.js';
import { streamFor } from './stream.js';

export interface ZooTrainOptions {
  /** Where to write the folder (default: nothing is written). */
  outDir?: string;
  checkpointEvery?: number;
  resume?: boolean;
  quiet?: boolean;
  /** Override the recipe's step count (tests train tiny runs). */
  steps?: number;
  onStep?: (step: number, loss: number) => void;
}

export interface ZooTrainResult {
  model: HookedTransformer;
  seconds: number;
  finalLoss: number;
  losses: number[];
}

/** What training measured, saved in recipe.json under "trained". */
export interface TrainedInfo {
  steps: number;
  seconds: number;
  final_loss: number;
  parameters: number;
  bytes: number;
}

/** The recipe's training batches: its task's prompts, with background rows mixed in when the recipe has a source. */
export function recipeStream(model: HookedTransformer, recipe: ZooRecipe): (step: number) => LmBatch {
  const t = recipe.train;
  const stream = streamFor(model, recipe.task, { seed: t.seed, batch: t.batch, taskOptions: t.task_options });
  if (!t.background) return stream;
  const { bosTokenId: bos, eosTokenId: eos, dVocab } = model.cfg;
  const pool = Array.from({ length: dVocab }, (_, i) => i).filter((i) => i !== bos && i !== eos);
  return withBackground(stream, new Markov2Source(dVocab, pool, t.background, t.seed), t.background.fraction, t.seed, bos);
}

export function trainZooModel(recipe: ZooRecipe, opts: ZooTrainOptions = {}): ZooTrainResult {
  const model = freshZooModel(recipe);
  const t = recipe.train;
  const steps = opts.steps ?? t.steps;
  const res = trainLm(model, recipeStream(model, recipe), {
    steps,
    lr: t.lr,
    warmupSteps: Math.min(t.warmup_steps, steps),
    minLrFraction: t.min_lr_fraction,
    weightDecay: t.weight_decay,
    betas: t.betas,
    gradClip: t.grad_clip,
    ...(t.frozen && { frozen: t.frozen }),
    ...(t.head_sparsity && { headSparsity: { lambda: t.head_sparsity.lambda, fromStep: t.head_sparsity.from_step } }),
    checkpointEvery: opts.checkpointEvery ?? 0,
    ...(opts.outDir !== undefined && { outDir: path.join(opts.outDir, '.train') }),
    resume: opts.resume ?? false,
    settings: { recipe: recipe.name, seed: t.seed, batch: t.batch, task: recipe.task, task_options: t.task_options, ...(t.background && { background: t.background }) },
    label: `train ${recipe.name}`,
    ...(opts.quiet !== undefined && { quiet: opts.quiet }),
    ...(opts.onStep && { onStep: opts.onStep }),
  });
  return { model, seconds: res.seconds, finalLoss: res.losses.at(-1) ?? NaN, losses: res.losses };
}

/** Writes the trained model's folder (weights, config, tokenizer, recipe.json with `trained`); drops the checkpoint. */
export function saveZooModel(folder: string, recipe: ZooRecipe, res: ZooTrainResult, steps: number): TrainedInfo {
  saveModelFolder(folder, res.model.cfg, res.model.params, tokenizerFiles(recipe));
  const bytes = fs.statSync(path.join(folder, 'model.safetensors')).size;
  const parameters = [...res.model.params.values()].reduce((a, p) => a + p.size, 0);
  const trained: TrainedInfo = { steps, seconds: Math.round(res.seconds * 10) / 10, final_loss: res.finalLoss, parameters, bytes };
  writeJsonAtomic(path.join(folder, 'recipe.json'), { ...recipe, trained });
  fs.rmSync(path.join(folder, '.train'), { recursive: true, force: true });
  return trained;
}

/** The held-out task of a recipe (its eval seed and options). */
export function evalTask(model: HookedTransformer, recipe: ZooRecipe, n = recipe.eval.n): Task {
  return makeTask(recipe.task, model, { ...recipe.eval.task_options, n, seed: recipe.eval.seed });
}

/** Fraction of held-out prompts the model gets right (one batched forward pass; the models are tiny). */
export function zooAccuracy(model: HookedTransformer, recipe: ZooRecipe, n = recipe.eval.n): { accuracy: number; n: number } {
  const task = evalTask(model, recipe, n);
  const logits = T.noGrad(() => model.forward(task.clean)); // [n, pos, d_vocab]
  return { accuracy: task.correct(logits).filter(Boolean).length / n, n };
}
