/** The README.md of a zoo model folder: task, architecture, training, held-out accuracy and circuit. */
import type { ZooCircuit } from './circuit.js';
import type { ZooRecipe } from './recipe.js';
import type { ZooResults } from './build.js';

export function modelCard(recipe: ZooRecipe, results: ZooResults, circuit: ZooCircuit): string {
  const c = recipe.config;
  const arch = `${String(c.n_layer)} layers × ${String(c.n_head)} heads, d_model ${String(c.n_embd)}, ${c.attn_only ? 'attention-only' : `MLP width ${String(c.n_inner)}`}, context ${String(c.n_positions)}`;
  const t = results.trained;
  const lines = [
    `# ${recipe.name}`,
    '',
    `${recipe.description}. Trained by circuitscope (\`circuitscope zoo train ${recipe.name}\`); a GPT-2-architecture Hugging Face folder.`,
    '',
    '| | |',
    '|---|---|',
    `| task | \`${recipe.task}\` (${recipe.tokenizer.type === 'integer' ? 'token ids' : `word-level vocabulary "${recipe.tokenizer.vocab}"`}) |`,
    `| architecture | ${arch} |`,
    `| parameters | ${t.parameters.toLocaleString('en-US')} (${(t.bytes / 1024).toFixed(0)} KiB float32) |`,
    `| training | ${t.steps} steps × batch ${recipe.train.batch}, AdamW lr ${recipe.train.lr}, seed ${recipe.train.seed}${recipe.init ? `, ${recipe.init.positions} positions (amplitude ${recipe.init.amplitude})` : ''}${recipe.train.frozen?.length ? `, frozen ${recipe.train.frozen.join(', ')}` : ''}${recipe.train.head_sparsity ? `, head sparsity λ ${recipe.train.head_sparsity.lambda} from step ${recipe.train.head_sparsity.from_step} (group lasso on each head's W_Q, W_K, W_V, W_O)` : ''}: ${t.seconds} s, final loss ${t.final_loss.toFixed(4)} |`,
    `| training stream | \`${recipe.task}\` with ${JSON.stringify(recipe.train.task_options)} (ranges drawn per step)${recipe.train.background ? `; a fraction ${recipe.train.background.fraction} of the rows replaced by a second-order Markov background (σ_prev ${recipe.train.background.sigma_prev}, σ_cur ${recipe.train.background.sigma_cur}) that rewards a previous-token head` : ''} |`,
    `| held-out accuracy | ${(100 * results.accuracy).toFixed(1)}% of ${results.accuracy_n} prompts (seed ${recipe.eval.seed}${recipe.eval.task_options.split ? `, split "${String(recipe.eval.task_options.split)}"` : ''}) |`,
    `| circuit | heads ${circuit.heads.join(', ') || '(none)'}${circuit.mlps.length ? `; MLPs ${circuit.mlps.join(', ')}` : ''}${circuit.edges ? `; ${circuit.edges.length} edges` : ''} |`,
    '',
    '## Circuit',
    '',
    `${circuit.source}. Metric: clean ${circuit.scores.clean_metric}, corrupted ${circuit.scores.corrupted_metric}. Rule: ${circuit.threshold_rule}.`,
    '',
    '| node | damage |',
    '|---|---|',
    ...Object.entries(circuit.scores.nodes).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).map(([k, v]) => `| ${k} | ${v} |`),
  ];
  if (circuit.edges?.length) lines.push('', `Edges kept: ${circuit.edges.map(([s, r, q]) => `${s}→${r}${q ? `.${q}` : ''}`).join(', ')}.`);
  const a = results.attention_check;
  if (a) {
    const list = (r: Record<string, number>): string => Object.entries(r).map(([h, s]) => `${h} ${s}`).join(', ');
    lines.push('', '## Attention-pattern check', '', `${a.rule}. Previous-token scores (layer 0): ${list(a.previous_token)}. Induction scores (layer 1): ${list(a.induction)}. Duplicate-token scores (layer 0, reported, not part of the rule): ${list(a.duplicate_token)}.`, '', `Selected by attention: ${a.by_attention.join(', ')}; by patching: ${a.by_patching.join(', ')} — ${a.agrees ? 'they agree' : 'they DISAGREE'}.`);
    if (a.disagreements.length) lines.push('', ...a.disagreements.map((d) => `- ${d}`));
  }
  lines.push('', `Re-check from the weights: \`circuitscope zoo verify ${recipe.name}\`.`, '');
  return lines.join('\n');
}
