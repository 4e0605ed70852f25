/** Scoring a discovery result against a zoo model's verified circuit (its circuit.json). */
import type { HookedTransformer } from '../model/index.js';
import { buildGraph, type DiscoverResult } from '../discovery/index.js';
import { type EvalReport, evaluateResult, loadTruth } from '../eval/index.js';
import { circuitPath } from './circuit.js';

/** Node and edge ROC AUC (and P/R/F1 at the circuit's size) of `result` against the zoo circuit in `folder`. */
export function scoreAgainstZoo(model: HookedTransformer, folder: string, result: DiscoverResult): EvalReport {
  const graph = buildGraph(model.cfg);
  const truth = loadTruth(circuitPath(folder), model.cfg, { graph });
  return evaluateResult(result, truth, graph);
}
