/**
 * An architecture family (GPT-2, Llama, …): how to read its config.json, which weights it needs, which
 * hook points it has and how its forward pass runs. Each family is one sibling file registered by the
 * Hugging Face `model_type` values it understands, so adding a family never branches inside another.
 */
import { CircuitscopeError } from '../../util/errors.js';
import type { IntTensor, Tensor } from '../../tensor/index.js';
import type { ModelConfig, RawConfig } from '../config.js';
import type { HookRun, HookSpec } from '../hooks.js';
import type { WeightSource } from '../weights.js';

/** A family's parameters by their checkpoint names (e.g. 'h.0.attn.c_attn.weight' for GPT-2). */
export type Params = Map<string, Tensor>;

export interface Family {
  readonly name: string;
  /** Hugging Face `model_type` values this family runs. */
  readonly modelTypes: readonly string[];
  /** Prefixes stripped from stored tensor names (e.g. 'transformer.'). */
  readonly weightPrefixes: readonly string[];
  config(raw: RawConfig, name: string): ModelConfig;
  /** Checkpoint name → shape of every parameter, in checkpoint order. */
  paramShapes(cfg: ModelConfig): Map<string, number[]>;
  /** Every hook point with its shape, in forward order (split-input hooks only when `splitInputs`). */
  hooks(cfg: ModelConfig, opts?: { splitInputs?: boolean }): HookSpec[];
  /** logits [batch, pos, d_vocab] for tokens [batch, pos]. */
  forward(params: Params, cfg: ModelConfig, tokens: IntTensor, run: HookRun): Tensor;
  /** A TransformerLens-named weight (W_E, blocks.0.attn.W_Q [head, d_model, d_head], …), or undefined if the family has no such weight. */
  tlWeight?(params: Params, cfg: ModelConfig, name: string): Tensor | undefined;
  /** The Hugging Face config.json object for `cfg` (families that can be saved). */
  configJson?(cfg: ModelConfig): Record<string, unknown>;
}

export function loadParams(family: Family, cfg: ModelConfig, src: WeightSource): Params {
  const params: Params = new Map();
  for (const [name, shape] of family.paramShapes(cfg)) params.set(name, src.read(name, shape));
  return params;
}

/** A parameter by checkpoint name; a missing one (hand-built Params) is a clear error naming the family. */
export function param(p: Params, name: string, family: string): Tensor {
  const t = p.get(name);
  if (!t) throw new CircuitscopeError(`${family} parameters: missing "${name}"`, 'build Params with initParams(cfg) or load a checkpoint');
  return t;
}
