/**
 * `zoo train` and `zoo verify` as library calls. Train: recipe → weights → held-out accuracy →
 * verified circuit (+ the attention check for induction-2l) → circuit.json, recipe.json (with the
 * results), README.md. Verify: recompute accuracy and circuit from the saved weights and compare with
 * what the folder says.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HookedTransformer } from '../model/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/files.js';
import { type AttentionCheck, inductionAttentionCheck } from './attention-check.js';
import { type ZooCircuit, circuitDifferences, computeCircuit, readZooCircuit } from './circuit.js';
import { modelCard } from './card.js';
import { type ZooRecipe, ZOO_LIMITS } from './recipe.js';
import { ZOO_RECIPES } from './model.js';
import { type TrainedInfo, saveZooModel, trainZooModel, zooAccuracy } from './train.js';

/** What a zoo folder's recipe.json records beyond the recipe. */
export interface ZooResults {
  trained: TrainedInfo;
  accuracy: number;
  accuracy_n: number;
  attention_check?: AttentionCheck;
}

type Progress = (done: number, total: number, note?: string) => void;

function attentionCheckFor(model: HookedTransformer, recipe: ZooRecipe, circuit: ZooCircuit): AttentionCheck | undefined {
  if (recipe.task !== 'induction' || !model.cfg.attnOnly || model.cfg.nLayers !== 2) return undefined;
  const o = recipe.eval.task_options;
  return inductionAttentionCheck(model, circuit, { ...(typeof o.length === 'number' && { length: o.length }), ...(typeof o.prefix === 'number' && { prefix: o.prefix }) });
}

export interface BuildOptions {
  quiet?: boolean;
  resume?: boolean;
  checkpointEvery?: number;
  steps?: number;
  onStage?: (stage: string) => void;
  onProgress?: Progress;
}

/** Trains, evaluates and verifies the recipe's model into `folder`. */
export function buildZooModel(recipe: ZooRecipe, folder: string, opts: BuildOptions = {}): ZooResults & { circuit: ZooCircuit } {
  opts.onStage?.(`training ${recipe.name} (${opts.steps ?? recipe.train.steps} steps)`);
  const res = trainZooModel(recipe, { outDir: folder, resume: opts.resume ?? false, checkpointEvery: opts.checkpointEvery ?? 500, ...(opts.quiet !== undefined && { quiet: opts.quiet }), ...(opts.steps !== undefined && { steps: opts.steps }) });
  const trained = saveZooModel(folder, recipe, res, opts.steps ?? recipe.train.steps);
  opts.onStage?.('measuring held-out accuracy');
  const acc = zooAccuracy(res.model, recipe);
  opts.onStage?.('patching every node and edge');
  const circuit = computeCircuit(res.model, recipe, opts.onProgress);
  const attention = attentionCheckFor(res.model, recipe, circuit);
  const results: ZooResults = { trained, accuracy: acc.accuracy, accuracy_n: acc.n, ...(attention && { attention_check: attention }) };
  writeJsonAtomic(path.join(folder, 'circuit.json'), circuit);
  writeJsonAtomic(path.join(folder, 'recipe.json'), { ...recipe, ...results });
  writeFileAtomic(path.join(folder, 'README.md'), modelCard(recipe, results, circuit));
  return { ...results, circuit };
}

export interface VerifyReport {
  name: string;
  accuracy: number;
  saved_accuracy: number | null;
  min_accuracy: number;
  bytes: number;
  circuit_differences: string[];
  attention_check?: AttentionCheck;
  /** Everything matches and every limit holds (the attention check is reported, not required: see its `agrees`). */
  ok: boolean;
  problems: string[];
}

/** Recomputes accuracy and circuit from the weights in `folder` and compares with the saved files. */
export function verifyZooModel(model: HookedTransformer, recipe: ZooRecipe, folder: string, onProgress?: Progress): VerifyReport {
  const saved = readZooCircuit(folder);
  const savedResults = recipe as ZooRecipe & Partial<ZooResults>;
  const acc = zooAccuracy(model, recipe);
  const now = computeCircuit(model, recipe, onProgress);
  const differences = circuitDifferences(saved, now);
  const attention = attentionCheckFor(model, recipe, now);
  const bytes = fs.statSync(path.join(folder, 'model.safetensors')).size;
  const problems: string[] = [];
  if (acc.accuracy < recipe.eval.min_accuracy) problems.push(`held-out accuracy ${acc.accuracy} is below ${recipe.eval.min_accuracy}`);
  if (savedResults.accuracy !== undefined && Math.abs(savedResults.accuracy - acc.accuracy) > 1e-9) problems.push(`accuracy ${acc.accuracy} differs from the saved ${savedResults.accuracy}`);
  if (differences.length) problems.push(`the circuit differs from circuit.json (${differences.join('; ')})`);
  const registered = ZOO_RECIPES.get(recipe.name);
  const keys = ['task', 'config', 'tokenizer', 'train', 'eval', 'circuit'] as const;
  const stale = registered ? keys.filter((k) => JSON.stringify(registered[k]) !== JSON.stringify(recipe[k])) : [];
  if (stale.length) problems.push(`recipe.json differs from the registered recipe in ${stale.join(', ')} (retrain with: circuitscope zoo train ${recipe.name})`);
  if (bytes > ZOO_LIMITS.maxBytes) problems.push(`model.safetensors is ${bytes} bytes, over the ${ZOO_LIMITS.maxBytes}-byte limit`);
  return {
    name: recipe.name,
    accuracy: acc.accuracy,
    saved_accuracy: savedResults.accuracy ?? null,
    min_accuracy: recipe.eval.min_accuracy,
    bytes,
    circuit_differences: differences,
    ...(attention && { attention_check: attention }),
    ok: problems.length === 0,
    problems,
  };
}
