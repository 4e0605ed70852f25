/** Scoring a discovery result against a zoo model's verified circuit (its circuit.json). */
import fs from 'node:fs';
import path from 'node:path';
import type { HookedTransformer } from '../model/index.js';
import { buildGraph, type DiscoverResult } from '../discovery/index.js';
import { type EvalReport, evaluateResult, loadTruth } from '../eval/index.js';
import { CircuitscopeError } from '../util/errors.js';

export function circuitFile(folder: string): string {
  const file = path.join(folder, 'circuit.json');
  if (!fs.existsSync(file)) throw new CircuitscopeError(`${folder} has no circuit.json`, 'train and verify it with `circuitscope zoo train <name>`');
  return file;
}

/** Node and edge ROC AUC (and P/R/F1 at the circuit's size) of `result` against the zoo circuit in `folder`. */
export function scoreAgainstZoo(model: HookedTransformer, folder: string, result: DiscoverResult): EvalReport {
  const graph = buildGraph(model.cfg);
  const truth = loadTruth(circuitFile(folder), model.cfg, { graph });
  return evaluateResult(result, truth, graph);
}
