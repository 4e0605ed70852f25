/**
 * Attention-pattern scores, the classic independent check of an induction circuit (Olsson et al. 2022):
 * a head's previous-token score is its mean attention from position p to p − 1; on a sequence whose
 * segment of length L repeats, its induction score is the mean attention from a token of the second
 * copy to the token just after that token's first occurrence (p − L + 1), and its duplicate-token score
 * (the IOI paper's head type) the mean attention to that first occurrence itself (p − L).
 */
import type { IntTensor, Tensor } from '../tensor/index.js';
import type { HookedTransformer } from '../model/index.js';
import { CircuitscopeError } from '../util/errors.js';

/** Mean attention weight pattern[b, h, q, k(q)] over the queries `qs` → one score per head. */
export function meanAttention(pattern: Tensor, qs: readonly number[], keyOf: (q: number) => number): number[] {
  const [b, h, pos] = pattern.shape as [number, number, number, number];
  const out = new Array<number>(h).fill(0);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < h; j++) {
      const base = ((i * h + j) * pos) * pos;
      for (const q of qs) out[j]! += pattern.data[base + q * pos + keyOf(q)]!;
    }
  }
  return out.map((s) => s / (b * qs.length));
}

/** Every layer's attention pattern on `tokens` [batch, pos], one forward pass → [layer] of [batch, head, query, key]. */
export function attentionPatterns(model: HookedTransformer, tokens: IntTensor): Tensor[] {
  const names = Array.from({ length: model.cfg.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { cache } = model.runWithCache(tokens, { names });
  return names.map((n) => cache.get(n));
}

const positions = (patterns: readonly Tensor[]): number => patterns[0]?.shape[2] ?? 0;

/** Previous-token score [layer][head] from `attentionPatterns`. */
export function previousTokenScores(patterns: readonly Tensor[]): number[][] {
  const pos = positions(patterns);
  if (pos < 2) throw new CircuitscopeError('previous-token scores need prompts of at least 2 tokens');
  const qs = Array.from({ length: pos - 1 }, (_, i) => i + 1);
  return patterns.map((p) => meanAttention(p, qs, (q) => q - 1));
}

/** The second copy's s₁…s_{L−1} in [prefix (`start` tokens), s₁…s_L, s₁…s_L] (one clear error when it does not fit). */
function secondCopy(what: string, pos: number, length: number, start: number): number[] {
  if (start + 2 * length > pos || length < 2) throw new CircuitscopeError(`${what} scores: a segment of ${length} repeated after ${start} tokens does not fit prompts of ${pos} tokens`);
  return Array.from({ length: length - 1 }, (_, t) => start + length + t);
}

/**
 * Induction score [layer][head] from the patterns of prompts [prefix (`start` tokens), s₁…s_L, s₁…s_L]:
 * queries are the second copy's s₁…s_{L−1}, their key the first copy's next token.
 */
export function inductionScores(patterns: readonly Tensor[], length: number, start = 1): number[][] {
  const qs = secondCopy('induction', positions(patterns), length, start);
  return patterns.map((p) => meanAttention(p, qs, (q) => q - length + 1));
}

/** Duplicate-token score [layer][head] on the same prompts: the key is the query token's first occurrence. */
export function duplicateTokenScores(patterns: readonly Tensor[], length: number, start = 1): number[][] {
  const qs = secondCopy('duplicate-token', positions(patterns), length, start);
  return patterns.map((p) => meanAttention(p, qs, (q) => q - length));
}
