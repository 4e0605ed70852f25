/**
 * Hook points, TransformerLens style. A forward pass calls `run.apply(name, activation)` at every hook
 * point; the run decides whether to replace the activation (forward hooks), make it a leaf to
 * differentiate against (gradient requests) and whether to keep it (cache). Names are validated against
 * the model's list of hook points, so a typo is an error rather than a silently unused hook.
 */
import { CircuitscopeError } from '../util/errors.js';
import { type Tensor, fmtShape, sameShape } from '../tensor/index.js';

/** A hook point's name and the shape of the activation it sees, e.g. ['blocks.0.attn.hook_z', '[batch, pos, head, d_head]']. */
export interface HookSpec {
  name: string;
  shape: string;
}

export interface HookContext {
  name: string;
  /** Block index for `blocks.{l}.…` hooks, otherwise null. */
  layer: number | null;
}

/** Returns a replacement of the same shape, or nothing to keep the activation. */
export type HookFn = (activation: Tensor, ctx: HookContext) => Tensor | void | undefined;

/** A hook name or a predicate over names (as TransformerLens's name filters). */
export type NameFilter = string | ((name: string) => boolean);

export interface RunOptions {
  /** Hook points whose activations are kept: names, a predicate, or 'all'. */
  cache?: readonly string[] | ((name: string) => boolean) | 'all';
  /** Forward hooks, run in order at their hook points. */
  fwd?: readonly (readonly [NameFilter, HookFn])[];
  /** Hook points to differentiate a metric against. */
  grads?: readonly string[];
  /** Each head reads its own copy of the residual stream (hook_q_input/k_input/v_input, hook_mlp_in). */
  splitInputs?: boolean;
  /** Compute attn.hook_result (per-head outputs) even when no hook asks for it. */
  attnResult?: boolean;
}

/** Activations by hook name. `get` throws a clear error for a name that was not cached. */
export class ActivationCache {
  readonly map = new Map<string, Tensor>();

  get(name: string): Tensor {
    const t = this.map.get(name);
    if (!t) {
      const have = [...this.map.keys()];
      throw new CircuitscopeError(`cache: "${name}" was not cached`, have.length ? `cached: ${have.slice(0, 6).join(', ')}${have.length > 6 ? `, … (${have.length})` : ''}` : 'pass it in { names: [...] }');
    }
    return t;
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  entries(): IterableIterator<[string, Tensor]> {
    return this.map.entries();
  }
}

const LAYER = /^blocks\.(\d+)\./;

/** Suggests known names close to an unknown one (same suffix, or same layer). */
function suggest(name: string, known: readonly string[]): string {
  const tail = name.split('.').pop() ?? name;
  const close = known.filter((k) => k.endsWith(tail)).slice(0, 4);
  return close.length ? `did you mean ${close.join(', ')}?` : `hook points look like ${known.slice(0, 3).join(', ')}, …`;
}

export function checkHookName(name: string, known: ReadonlySet<string>, what: string): void {
  if (!known.has(name)) throw new CircuitscopeError(`${what}: unknown hook point "${name}"`, suggest(name, [...known]));
}

/** The state of one forward pass: which hook points are hooked, cached or differentiated. */
export class HookRun {
  readonly cache = new ActivationCache();
  /** The activation tensor at each hook point named in `grads` (the inputs to differentiate against). */
  readonly gradInputs = new Map<string, Tensor>();
  readonly splitInputs: boolean;
  readonly attnResult: boolean;
  private readonly fwd: (readonly [(n: string) => boolean, HookFn])[];
  private readonly cacheTest: (n: string) => boolean;
  private readonly gradNames: ReadonlySet<string>;

  constructor(known: ReadonlySet<string>, opts: RunOptions = {}) {
    this.splitInputs = !!opts.splitInputs;
    this.attnResult = !!opts.attnResult;
    const filter = (f: NameFilter, what: string): ((n: string) => boolean) => {
      if (typeof f === 'function') return f;
      checkHookName(f, known, what);
      return (n) => n === f;
    };
    this.fwd = (opts.fwd ?? []).map(([f, fn]) => [filter(f, 'forward hook'), fn] as const);
    const c = opts.cache;
    if (c === 'all') this.cacheTest = () => true;
    else if (typeof c === 'function') this.cacheTest = c;
    else {
      const names = new Set(c ?? []);
      for (const n of names) checkHookName(n, known, 'cache');
      this.cacheTest = (n) => names.has(n);
    }
    for (const n of opts.grads ?? []) checkHookName(n, known, 'gradients');
    this.gradNames = new Set(opts.grads ?? []);
  }

  /** True when a forward hook or a gradient request targets `name` (its activation must be explicit and differentiable). */
  touches(name: string): boolean {
    return this.gradNames.has(name) || this.fwd.some(([f]) => f(name));
  }

  /** True when `name` is hooked, differentiated or cached, i.e. its activation must be computed. */
  wants(name: string): boolean {
    return this.touches(name) || this.cacheTest(name);
  }

  caches(name: string): boolean {
    return this.cacheTest(name);
  }

  /** Stores a value computed only for the cache (e.g. a LayerNorm scale the fused kernel did not expose). */
  store(name: string, t: Tensor): void {
    if (this.cacheTest(name)) this.cache.map.set(name, t.detach());
  }

  /** Runs the hook point `name` on `t` and returns the activation the model continues with. */
  apply(name: string, t: Tensor): Tensor {
    let x = t;
    if (this.fwd.length) {
      const m = LAYER.exec(name);
      const ctx: HookContext = { name, layer: m ? Number(m[1]) : null };
      for (const [f, fn] of this.fwd) {
        if (!f(name)) continue;
        const r = fn(x, ctx);
        if (r === undefined) continue;
        if (!sameShape(r.shape, x.shape)) {
          throw new CircuitscopeError(`forward hook at ${name} returned ${fmtShape(r.shape)}, but the activation is ${fmtShape(x.shape)}`, 'return a tensor of the same shape, or nothing to keep the activation');
        }
        x = r;
      }
    }
    if (this.gradNames.has(name)) {
      // A fresh tensor object per hook point, so two hook points that carry the same values (e.g.
      // resid_mid and mlp_in) each get the gradient of only what reads them downstream.
      x = x.requiresGrad ? x.reshape(x.shape) : x.detach().requireGrad();
      this.gradInputs.set(name, x);
    }
    if (this.cacheTest(name)) this.cache.map.set(name, x.detach());
    return x;
  }
}
