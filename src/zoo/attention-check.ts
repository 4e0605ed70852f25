/**
 * The independent check of induction-2l's circuit: attention patterns alone (previous-token score in
 * layer 0, induction score in layer 1) must pick out the same heads as patching.
 */
import type { HookedTransformer } from '../model/index.js';
import { attentionPatterns, duplicateTokenScores, inductionScores, previousTokenScores } from '../discovery/index.js';
import { makeTask } from '../tasks/index.js';
import type { ZooCircuit } from './circuit.js';

export interface AttentionCheck {
  rule: string;
  threshold: number;
  /** Layer-0 previous-token and layer-1 induction score per head. */
  previous_token: Record<string, number>;
  induction: Record<string, number>;
  /** Layer-0 duplicate-token score per head: reported, not part of the rule (such a head can hand the induction head a "seen before" signal and, attending to itself, the token to copy). */
  duplicate_token: Record<string, number>;
  /** Heads the patterns select, and the heads patching kept. */
  by_attention: string[];
  by_patching: string[];
  agrees: boolean;
  /** One line per head the two sides disagree on, saying what that head does. */
  disagreements: string[];
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export function inductionAttentionCheck(model: HookedTransformer, circuit: ZooCircuit, opts: { n?: number; seed?: number; length?: number; prefix?: number; threshold?: number } = {}): AttentionCheck {
  const length = opts.length ?? 20;
  const prefix = opts.prefix ?? 0;
  const threshold = opts.threshold ?? 0.4;
  const task = makeTask('induction', model, { n: opts.n ?? 50, seed: opts.seed ?? 3, length, prefix });
  const patterns = attentionPatterns(model, task.clean); // one forward pass for all three scores
  const prev = previousTokenScores(patterns)[0]!;
  const ind = inductionScores(patterns, length, 1 + prefix)[1]!; // BOS + prefix before the first copy
  const dup = duplicateTokenScores(patterns, length, 1 + prefix)[0]!;
  const previous_token = Object.fromEntries(prev.map((s, h) => [`0.${h}`, r3(s)]));
  const induction = Object.fromEntries(ind.map((s, h) => [`1.${h}`, r3(s)]));
  const duplicate_token = Object.fromEntries(dup.map((s, h) => [`0.${h}`, r3(s)]));
  const byAttention = [...Object.entries(previous_token), ...Object.entries(induction)].filter(([, s]) => s >= threshold).map(([h]) => h);
  const byPatching = [...circuit.heads].sort();
  const disputed = disagreements(circuit, byAttention, { ...previous_token, ...induction }, duplicate_token, threshold);
  return {
    rule: `a head is selected iff its layer-0 previous-token score or layer-1 induction score is ≥ ${threshold} (${opts.n ?? 50} segments of ${length} tokens repeated after BOS and ${prefix} random tokens)`,
    threshold,
    previous_token,
    induction,
    duplicate_token,
    by_attention: byAttention.sort(),
    by_patching: byPatching,
    agrees: disputed.length === 0,
    disagreements: disputed,
  };
}

/** Why each head selected by one side only is there: its pattern scores and its share of the patching damage. */
function disagreements(circuit: ZooCircuit, byAttention: readonly string[], score: Record<string, number>, dup: Record<string, number>, threshold: number): string[] {
  const whole = Math.abs(circuit.scores.clean_metric - circuit.scores.corrupted_metric);
  const share = (h: string): string => (whole > 0 ? `${r3(Math.abs(circuit.scores.nodes[h] ?? 0) / whole)}` : 'n/a');
  const kind = (h: string): string => (h.startsWith('0.') ? 'a previous-token' : 'an induction');
  const out: string[] = [];
  for (const h of circuit.heads.filter((x) => !byAttention.includes(x)).sort()) {
    const d = dup[h];
    const what = d !== undefined && d >= threshold ? `a duplicate-token head (score ${d}), which the rule does not count` : `not ${kind(h)} head (score ${score[h] ?? 'n/a'})`;
    out.push(`${h}: patching keeps it (damage ${share(h)} of the whole) but it is ${what}`);
  }
  for (const h of byAttention.filter((x) => !circuit.heads.includes(x))) {
    out.push(`${h}: ${kind(h)} head (score ${score[h]}) whose patching alone moves the metric by only ${share(h)} of the whole (redundant or unused)`);
  }
  return out;
}
