/**
 * A zoo recipe: everything needed to retrain a zoo model and re-verify its circuit, as JSON
 * (`recipe.json` next to the weights). Keys are snake_case like Hugging Face's config.json, and the
 * model's `config` is exactly the config.json the trainer writes.
 */
import { CircuitscopeError } from '../util/errors.js';
import type { AblationKind } from '../discovery/types.js';
import { type BackgroundSource, checkBackground } from './background.js';

/** A task option in a training stream: a fixed value, or [lo, hi] drawn uniformly per step (integers). */
export type StreamOption = string | number | boolean | [number, number];

export interface ZooRecipe {
  name: string;
  description: string;
  /** Registered task name (src/tasks/registry.ts). */
  task: string;
  /** Hugging Face GPT-2 config.json keys (n_layer, n_head, n_embd, n_positions, vocab_size, attn_only, …). */
  config: Record<string, unknown>;
  /** The vocabulary: ids only ("integer"), or a word-level tokenizer over the toy task's words. */
  tokenizer: { type: 'integer' } | { type: 'word-level'; vocab: string };
  /** Optional initialisation: sinusoidal position rows (amplitude, base) instead of N(0, 0.02²). */
  init?: { positions: 'sinusoidal'; amplitude: number; base: number };
  train: {
    seed: number;
    steps: number;
    batch: number;
    lr: number;
    warmup_steps: number;
    min_lr_fraction: number;
    weight_decay: number;
    betas: [number, number];
    grad_clip: number;
    /** Checkpoint names of parameters kept at their initial values (e.g. ["wpe.weight"]). */
    frozen?: string[];
    /** Options of the task generator for training batches (split 'train' for the toy tasks). */
    task_options: Record<string, StreamOption>;
    /** Group-lasso penalty λ on each head's (W_Q, W_K, W_V, W_O) from step `from_step` on (src/model/training/head-sparsity.ts). */
    head_sparsity?: { lambda: number; from_step: number };
    /** Rows of a background source mixed into the task's batches (background.ts). */
    background?: BackgroundSource;
  };
  /** Held-out accuracy: prompts drawn with this seed and options (split 'test' for the toy tasks). */
  eval: { n: number; seed: number; task_options: Record<string, StreamOption>; min_accuracy: number };
  /** The verified circuit: exhaustive node (and edge) patching with this ablation on `n` prompt pairs. */
  circuit: {
    n: number;
    seed: number;
    ablation: AblationKind;
    /** A node (edge) is in the circuit iff |damage| ≥ threshold · |damage of ablating every node|. */
    node_threshold: number;
    edge_threshold: number;
    /** Patch every edge (feasible for these sizes). */
    edges: boolean;
  };
}

/** Limits every zoo model must meet. */
export const ZOO_LIMITS = { maxBytes: 2 * 1024 * 1024, maxTrainSeconds: 600, minAccuracy: 0.95 } as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return !!x && typeof x === 'object' && !Array.isArray(x);
}

/** Checks a parsed recipe.json: the sections and the numbers the trainer relies on. */
export function checkRecipe(raw: unknown, source: string): ZooRecipe {
  const bad = (what: string): never => {
    throw new CircuitscopeError(`${source}: ${what}`, 'a recipe.json is written by `circuitscope zoo train`; compare with models/zoo/*/recipe.json');
  };
  if (!isRecord(raw)) return bad('not a JSON object');
  for (const k of ['name', 'task', 'description']) if (typeof raw[k] !== 'string') bad(`"${k}" must be a string`);
  for (const k of ['config', 'tokenizer', 'train', 'eval', 'circuit']) if (!isRecord(raw[k])) bad(`missing section "${k}"`);
  const train = raw.train as Record<string, unknown>;
  for (const k of ['seed', 'steps', 'batch', 'lr', 'warmup_steps', 'min_lr_fraction', 'weight_decay', 'grad_clip']) {
    if (typeof train[k] !== 'number' || !Number.isFinite(train[k])) bad(`train.${k} must be a number`);
  }
  if (!isRecord(train.task_options)) bad('train.task_options must be an object');
  const hs = train.head_sparsity;
  if (hs !== undefined && !(isRecord(hs) && typeof hs.lambda === 'number' && hs.lambda >= 0 && Number.isInteger(hs.from_step) && (hs.from_step as number) >= 0)) {
    bad(`train.head_sparsity must be { "lambda": number ≥ 0, "from_step": integer ≥ 0 }, got ${JSON.stringify(hs)}`);
  }
  if (train.background !== undefined) checkBackground(train.background, bad);
  const ev = raw.eval as Record<string, unknown>;
  if (typeof ev.n !== 'number' || typeof ev.seed !== 'number' || typeof ev.min_accuracy !== 'number') bad('eval needs n, seed and min_accuracy');
  const c = raw.circuit as Record<string, unknown>;
  if (typeof c.node_threshold !== 'number' || typeof c.n !== 'number') bad('circuit needs n and node_threshold');
  return raw as unknown as ZooRecipe;
}
