/**
 * HookedTransformer: TransformerLens's API over circuitscope's tensor core. Loading reads config.json
 * and the safetensors weights one tensor at a time; every forward pass goes through a HookRun, so
 * caching, patching and gradients at hook points are one mechanism.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CircuitscopeError } from '../util/errors.js';
import * as T from '../tensor/index.js';
import type { IntTensor, Tensor } from '../tensor/index.js';
import { type ModelConfig, RawConfig } from './config.js';
import { type Family, type Params, familyByName, familyFor, loadParams } from './families/index.js';
import { ActivationCache, type HookFn, HookRun, type HookSpec, type NameFilter, type RunOptions } from './hooks.js';
import { type ResolveOptions, resolveModel } from './hub/index.js';
import { type Tokenizer, loadTokenizer } from './tokenizers/index.js';
import { type TokensInput, tokenBatch } from './tokens.js';
import { WeightSource } from './weights.js';
import { generateGreedy, type GenerateOptions, type GenerateResult } from './generate.js';

export interface LoadOptions extends ResolveOptions {
  /** Default for every run: each head reads its own copy of the residual stream (hook_q_input, …, hook_mlp_in). */
  splitInputs?: boolean;
  /** Default for every run: always compute attn.hook_result. */
  attnResult?: boolean;
}

export type Fwd = readonly (readonly [NameFilter, HookFn])[];
/** A scalar metric of the logits (e.g. a logit difference), differentiated by `gradients`. */
export type Metric = (logits: Tensor, ctx: { cache: ActivationCache }) => Tensor;

export interface GradientsResult {
  /** The metric's value. */
  value: number;
  /** d(metric)/d(activation) at each requested hook point, with the activation's shape. */
  grads: ActivationCache;
  logits: Tensor;
  /** Activations cached during the pass (those named in `cache`). */
  cache: ActivationCache;
}

function readConfigFile(file: string): RawConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CircuitscopeError(`${file}: cannot read config.json`, 'a model folder needs config.json next to model.safetensors');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CircuitscopeError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CircuitscopeError(`${file}: expected a JSON object`);
  return new RawConfig(raw as Record<string, unknown>, file);
}

/** Config, family and parameters of a config.json + safetensors checkpoint. */
function readCheckpoint(configFile: string, weightFiles: readonly string[], name: string): { cfg: ModelConfig; params: Params; family: Family } {
  const raw = readConfigFile(configFile);
  const family = familyFor(raw.str('model_type', ''), configFile);
  const cfg = family.config(raw, name);
  const src = new WeightSource(weightFiles, family.weightPrefixes);
  try {
    return { cfg, params: loadParams(family, cfg, src), family };
  } finally {
    src.close();
  }
}

export class HookedTransformer {
  /** Defaults applied to every run (overridable per call). */
  readonly defaults: { splitInputs: boolean; attnResult: boolean };
  private readonly known = new Map<boolean, ReadonlySet<string>>();

  constructor(
    readonly cfg: ModelConfig,
    readonly params: Params,
    readonly tokenizer: Tokenizer | null,
    private readonly family: Family = familyByName(cfg.family),
    defaults: { splitInputs?: boolean; attnResult?: boolean } = {},
  ) {
    this.defaults = { splitInputs: !!defaults.splitInputs, attnResult: !!defaults.attnResult };
  }

  /** Loads a model from a local Hugging Face folder or a hub id (HF cache, else download). */
  static async load(idOrFolder: string, opts: LoadOptions = {}): Promise<HookedTransformer> {
    // llama2.c checkpoints (a .bin file, or a folder holding one and no config.json) have their own reader.
    const llama2c = await import('./llama2c.js');
    const ckpt = llama2c.llama2cCheckpointIn(idOrFolder);
    if (ckpt) return llama2c.loadLlama2c(ckpt, undefined, opts);
    const resolved = await resolveModel(idOrFolder, opts);
    const name = resolved.id ?? path.basename(path.resolve(resolved.folder));
    const { cfg, params, family } = readCheckpoint(path.join(resolved.folder, 'config.json'), resolved.weightFiles, name);
    const tokenizer = await loadTokenizer(resolved.folder, { vocabSize: cfg.dVocab, bosTokenId: cfg.bosTokenId, eosTokenId: cfg.eosTokenId, modelType: cfg.modelType });
    return new HookedTransformer(cfg, params, tokenizer, family, opts);
  }

  /** A model from a config.json and its safetensors shards (no tokenizer). */
  static fromFiles(configFile: string, weightFiles: readonly string[], name: string, opts: LoadOptions = {}): HookedTransformer {
    const { cfg, params, family } = readCheckpoint(configFile, weightFiles, name);
    return new HookedTransformer(cfg, params, null, family, opts);
  }

  /** Every hook point with its shape, for this model and split-input setting. */
  hookSpecs(opts: { splitInputs?: boolean } = {}): HookSpec[] {
    return this.family.hooks(this.cfg, { splitInputs: opts.splitInputs ?? this.defaults.splitInputs });
  }

  hookNames(opts: { splitInputs?: boolean } = {}): string[] {
    return this.hookSpecs(opts).map((h) => h.name);
  }

  private knownNames(split: boolean): ReadonlySet<string> {
    let s = this.known.get(split);
    if (!s) this.known.set(split, (s = new Set(this.hookNames({ splitInputs: split }))));
    return s;
  }

  /** One forward pass through a HookRun; the building block of every public method. */
  run(tokens: TokensInput, opts: RunOptions = {}): { logits: Tensor; run: HookRun } {
    const split = opts.splitInputs ?? this.defaults.splitInputs;
    const run = new HookRun(this.knownNames(split), { ...opts, splitInputs: split, attnResult: opts.attnResult ?? this.defaults.attnResult });
    const logits = this.family.forward(this.params, this.cfg, tokenBatch(tokens, this.cfg), run); // [batch, pos, d_vocab]
    return { logits, run };
  }

  /** logits [batch, pos, d_vocab]. Records autograd only if parameters (or hooks' outputs) require grad. */
  forward(tokens: TokensInput, opts: { fwd?: Fwd; splitInputs?: boolean } = {}): Tensor {
    return this.run(tokens, opts).logits;
  }

  /** logits and the activations at `names` (default: every hook point). */
  runWithCache(tokens: TokensInput, opts: { names?: readonly string[] | ((name: string) => boolean); fwd?: Fwd; splitInputs?: boolean; attnResult?: boolean } = {}): { logits: Tensor; cache: ActivationCache } {
    const { logits, run } = T.noGrad(() => this.run(tokens, { ...opts, cache: opts.names ?? 'all' }));
    return { logits, cache: run.cache };
  }

  /** logits with forward hooks applied; a hook `fn(activation, {name})` may return a replacement. */
  runWithHooks(tokens: TokensInput, opts: { fwd: Fwd; splitInputs?: boolean; attnResult?: boolean }): Tensor {
    return T.noGrad(() => this.run(tokens, opts)).logits;
  }

  /** Gradients of a scalar metric of the logits with respect to the activations at hook points `names`. */
  gradients(tokens: TokensInput, metric: Metric, opts: { names: readonly string[]; fwd?: Fwd; cache?: readonly string[]; splitInputs?: boolean; attnResult?: boolean }): GradientsResult {
    if (opts.names.length === 0) throw new CircuitscopeError('gradients: no hook points named', 'pass names: ["blocks.0.attn.hook_z", …]');
    return T.withGradMode(true, () => {
      const { logits, run } = this.run(tokens, { ...opts, grads: opts.names, cache: opts.cache ?? [] });
      const m = metric(logits, { cache: run.cache });
      if (m.size !== 1) throw new CircuitscopeError(`gradients: the metric must be a scalar, got shape ${T.fmtShape(m.shape)}`, 'reduce it, e.g. with T.sum or T.mean');
      const grads = new ActivationCache();
      const inputs = opts.names.map((n) => run.gradInputs.get(n)!);
      if (m.requiresGrad) {
        const gs = T.grad(m, inputs);
        opts.names.forEach((n, i) => grads.map.set(n, gs[i]!));
      } else {
        // The metric does not depend on any requested activation (e.g. a hook after the metric's logits).
        for (const [i, n] of opts.names.entries()) grads.map.set(n, T.zeros(inputs[i]!.shape));
      }
      return { value: m.item(), grads, logits: logits.detach(), cache: run.cache };
    });
  }

  private needTokenizer(): Tokenizer {
    if (!this.tokenizer) throw new CircuitscopeError(`${this.cfg.name} has no tokenizer`, 'pass token ids instead of text (e.g. --tokens 0,1,2)');
    return this.tokenizer;
  }

  /** Token ids [batch, pos] for text (prepending BOS by default, as TransformerLens does); a batch is right-padded with EOS/BOS. */
  toTokens(text: string | readonly string[], opts: { prependBos?: boolean } = {}): IntTensor {
    const tok = this.needTokenizer();
    const texts = typeof text === 'string' ? [text] : text;
    if (texts.length === 0) throw new CircuitscopeError('toTokens: no text given');
    const bos = opts.prependBos ?? true;
    if (bos && tok.bosTokenId === null) throw new CircuitscopeError(`${this.cfg.name}'s tokenizer has no BOS token`, 'pass prependBos: false (--no-bos)');
    const rows = texts.map((t) => [...(bos ? [tok.bosTokenId!] : []), ...tok.encode(t)]);
    const n = Math.max(...rows.map((r) => r.length));
    const pad = this.cfg.eosTokenId ?? tok.bosTokenId ?? 0;
    return tokenBatch(rows.map((r) => [...r, ...new Array<number>(n - r.length).fill(pad)]), this.cfg);
  }

  /** The string of every token, e.g. ['<|endoftext|>', 'When', ' Mary', …]. */
  toStrTokens(input: string | readonly number[], opts: { prependBos?: boolean } = {}): string[] {
    const tok = this.needTokenizer();
    const ids = typeof input === 'string' ? Array.from(this.toTokens(input, opts).data) : input;
    return ids.map((id) => tok.tokenString(id));
  }

  /** Decodes token ids to text. */
  toText(ids: readonly number[]): string {
    return this.needTokenizer().decode(ids);
  }

  /** Greedy decoding from a prompt (text or token ids). */
  generate(input: string | readonly number[], opts: GenerateOptions = {}): GenerateResult {
    const ids = typeof input === 'string' ? Array.from(this.toTokens(input, opts).data) : [...input];
    const res = generateGreedy((toks) => T.noGrad(() => this.forward([toks])), ids, this.cfg, opts);
    return this.tokenizer ? { ...res, text: this.tokenizer.decode(res.newTokens) } : res;
  }

  /** A weight by its TransformerLens name: W_E, W_pos, W_U, blocks.{l}.attn.W_Q [head, d_model, d_head], …, blocks.{l}.mlp.W_in. */
  weight(name: string): Tensor {
    const w = this.family.tlWeight?.(this.params, this.cfg, name);
    if (!w) throw new CircuitscopeError(`${this.cfg.name}: no weight named "${name}"`, 'TransformerLens names: W_E, W_pos, W_U, blocks.0.attn.W_Q/W_K/W_V/W_O, b_Q/b_K/b_V/b_O, blocks.0.mlp.W_in/W_out/b_in/b_out');
    return w;
  }
}
