/**
 * Model configuration: the family-independent shape of a transformer, read from a Hugging Face
 * `config.json`. Field names follow TransformerLens's HookedTransformerConfig (n_layers → nLayers, …).
 */
import { CircuitscopeError } from '../util/errors.js';

export interface ModelConfig {
  /** Registry key of the architecture family that runs this model ('gpt2', 'llama', …). */
  family: string;
  /** Hugging Face `model_type` as found in config.json. */
  modelType: string;
  /** Display name (hub id or folder name). */
  name: string;
  nLayers: number;
  nHeads: number;
  /** Key/value heads (grouped-query attention); equals nHeads for GPT-2. */
  nKvHeads: number;
  dModel: number;
  dHead: number;
  /** MLP hidden width; 0 for attention-only models. */
  dMlp: number;
  /** Context length (n_positions). */
  nCtx: number;
  dVocab: number;
  /** Activation function name as in config.json ('gelu_new', 'relu', 'silu', …). */
  actFn: string;
  /** LayerNorm / RMSNorm epsilon. */
  normEps: number;
  /** The unembedding is the transpose of the embedding (tie_word_embeddings). */
  tiedEmbeddings: boolean;
  /** No MLP sublayers (circuitscope's attention-only toy models; config key `attn_only`). */
  attnOnly: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
  /** RoPE base for families with rotary positions. */
  ropeTheta?: number;
}

/** Typed reads of config.json fields with one clear error per bad or missing key. */
export class RawConfig {
  constructor(readonly raw: Record<string, unknown>, readonly source: string) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** A positive integer from the first of `keys` that is present. */
  int(keys: readonly string[], fallback?: number): number {
    for (const k of keys) {
      if (!this.has(k)) continue;
      const v = this.raw[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
        throw new CircuitscopeError(`${this.source}: "${k}" must be a non-negative integer, got ${JSON.stringify(v)}`);
      }
      return v;
    }
    if (fallback !== undefined) return fallback;
    throw new CircuitscopeError(`${this.source}: missing "${keys[0]}"${keys.length > 1 ? ` (or ${keys.slice(1).join(', ')})` : ''}`, 'is this a Hugging Face config.json for a supported model?');
  }

  num(key: string, fallback: number): number {
    if (!this.has(key)) return fallback;
    const v = this.raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CircuitscopeError(`${this.source}: "${key}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    const v = this.raw[key];
    if (typeof v !== 'string') throw new CircuitscopeError(`${this.source}: "${key}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.raw[key];
    if (typeof v !== 'boolean') throw new CircuitscopeError(`${this.source}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A token id or null (config.json writes null or omits it). */
  tokenId(key: string): number | null {
    if (!this.has(key)) return null;
    const v = this.raw[key];
    if (Array.isArray(v) && typeof v[0] === 'number') return v[0];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new CircuitscopeError(`${this.source}: "${key}" must be a token id, got ${JSON.stringify(v)}`);
    return v;
  }
}

/** Checks the invariants every family relies on. */
export function validateConfig(cfg: ModelConfig, source: string): ModelConfig {
  const bad = (msg: string): never => {
    throw new CircuitscopeError(`${source}: ${msg}`);
  };
  if (cfg.nLayers < 1) bad(`needs at least one layer, got n_layers = ${cfg.nLayers}`);
  if (cfg.nHeads < 1 || cfg.dModel < 1 || cfg.dVocab < 1 || cfg.nCtx < 1) bad('n_head, n_embd, vocab_size and n_positions must all be positive');
  if (cfg.dHead * cfg.nHeads !== cfg.dModel) bad(`d_model ${cfg.dModel} is not divisible into ${cfg.nHeads} heads`);
  if (cfg.nHeads % cfg.nKvHeads !== 0) bad(`${cfg.nHeads} heads cannot share ${cfg.nKvHeads} key/value heads evenly`);
  if (!cfg.attnOnly && cfg.dMlp < 1) bad('d_mlp (n_inner / intermediate_size) must be positive unless the model is attention-only');
  return cfg;
}
