/**
 * A zoo model's verified circuit: exhaustive node patching (every head and MLP, one at a time) and
 * edge patching (every edge, one at a time) with corrupted ablation on the recipe's prompts, kept by
 * a threshold relative to the corruption's whole effect. Saved as `circuit.json` in the form of
 * ../shared/circuits ("heads", "mlps", explicit "edges") plus the scores and the rule, so a reader can
 * re-threshold it.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as T from '../tensor/index.js';
import type { HookedTransformer } from '../model/index.js';
import { exactEdge, exactNode } from '../discovery/index.js';
import { makeTask } from '../tasks/index.js';
import { CircuitscopeError } from '../util/errors.js';
import { readJsonFile } from '../util/files.js';
import type { ZooRecipe } from './recipe.js';

export type EdgeLine = [sender: string, receiver: string, qkv: string];

export interface ZooCircuit {
  model: string;
  task: string;
  source: string;
  threshold_rule: string;
  heads: string[];
  mlps: number[];
  edges?: EdgeLine[];
  scores: {
    /** Task metric, mean over the prompts: clean, and on the corrupted prompts. */
    clean_metric: number;
    corrupted_metric: number;
    nodes: Record<string, number>;
    edges?: Record<string, number>;
  };
  settings: { n: number; seed: number; ablation: string; metric: string };
}

/** The circuit.json of a zoo model folder (one clear error when it has none). */
export function circuitPath(folder: string): string {
  const file = path.join(folder, 'circuit.json');
  if (!fs.existsSync(file)) throw new CircuitscopeError(`${folder} has no circuit.json`, 'train and verify it with `circuitscope zoo train <name>`');
  return file;
}

export function readZooCircuit(folder: string): ZooCircuit {
  return readJsonFile(circuitPath(folder), 'zoo circuit') as ZooCircuit;
}

/** 'a->L.H.q' → [a, 'L.H', 'q'], 'a->mlpL' → [a, 'mlpL', ''], input → 'embed' (the shared circuits' spelling). */
export function edgeLine(edge: string): EdgeLine {
  const [s, r] = edge.split('->') as [string, string];
  const sender = s === 'input' ? 'embed' : s;
  const m = /^(\d+\.\d+)\.([qkv])$/.exec(r);
  return m ? [sender, m[1]!, m[2]!] : [sender, r, ''];
}

const round = (x: number): number => Number(x.toPrecision(6));

/** Runs the patching and applies the recipe's thresholds. */
export function computeCircuit(model: HookedTransformer, recipe: ZooRecipe, onProgress?: (done: number, total: number, note?: string) => void): ZooCircuit {
  const c = recipe.circuit;
  const task = makeTask(recipe.task, model, { ...recipe.eval.task_options, n: c.n, seed: c.seed });
  const opts = { ablation: c.ablation, metric: 'task' as const, seed: c.seed, ...(onProgress && { onProgress }) };
  const clean = T.noGrad(() => T.mean(task.metric(model.forward(task.clean))).item());
  const corrupted = T.noGrad(() => T.mean(task.metric(model.forward(task.corrupt))).item());
  const whole = Math.abs(clean - corrupted);
  const nodes = exactNode.discover(model, task, opts).nodes;
  const keptNodes = Object.keys(nodes).filter((k) => Math.abs(nodes[k]!) >= c.node_threshold * whole);
  const out: ZooCircuit = {
    model: recipe.name,
    task: recipe.task,
    source: `circuitscope zoo: exhaustive ${c.edges ? 'node and edge' : 'node'} patching with ${c.ablation} ablation on ${c.n} prompt pairs (seed ${c.seed})`,
    threshold_rule:
      `a node is kept iff |damage| ≥ ${c.node_threshold} · |clean − corrupted metric|` +
      (c.edges ? `; an edge iff |damage of patching it alone| ≥ ${c.edge_threshold} · |clean − corrupted metric|` : '') +
      ' (damage = clean metric − metric with only that node/edge patched from the corrupted prompt)',
    heads: keptNodes.filter((k) => !k.startsWith('mlp')),
    mlps: keptNodes.filter((k) => k.startsWith('mlp')).map((k) => Number(k.slice(3))),
    scores: { clean_metric: round(clean), corrupted_metric: round(corrupted), nodes: roundAll(nodes) },
    settings: { n: c.n, seed: c.seed, ablation: c.ablation, metric: 'task' },
  };
  if (c.edges) {
    const edges = exactEdge.discover(model, task, { ...opts, maxEdges: 20000 }).edges ?? {};
    out.edges = Object.keys(edges).filter((e) => Math.abs(edges[e]!) >= c.edge_threshold * whole).map(edgeLine);
    out.scores.edges = roundAll(edges);
  }
  return out;
}

function roundAll(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v)]));
}

/** How a recomputed circuit differs from the saved one ([] = the same members). */
export function circuitDifferences(saved: ZooCircuit, now: ZooCircuit): string[] {
  const diff: string[] = [];
  const cmp = (what: string, a: readonly string[], b: readonly string[]): void => {
    const A = new Set(a);
    const B = new Set(b);
    const gone = a.filter((x) => !B.has(x));
    const added = b.filter((x) => !A.has(x));
    if (gone.length || added.length) diff.push(`${what}: ${gone.length ? `no longer ${gone.join(', ')}` : ''}${gone.length && added.length ? '; ' : ''}${added.length ? `now also ${added.join(', ')}` : ''}`);
  };
  cmp('heads', saved.heads, now.heads);
  cmp('mlps', saved.mlps.map(String), now.mlps.map(String));
  if (saved.edges || now.edges) cmp('edges', (saved.edges ?? []).map((e) => e.join(' ')), (now.edges ?? []).map((e) => e.join(' ')));
  return diff;
}
