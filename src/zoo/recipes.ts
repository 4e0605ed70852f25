/**
 * The zoo's recipes: four small GPT-2-architecture models, each trained by circuitscope on a synthetic
 * stream of one task and verified by exhaustive patching. Retraining from a recipe reproduces the
 * bundled weights bit for bit on the same machine (the trainer is deterministic by seed).
 */
import type { StreamOption, ZooRecipe } from './recipe.js';

const TRAIN = { seed: 0, warmup_steps: 200, min_lr_fraction: 0.1, weight_decay: 0.01, betas: [0.9, 0.95] as [number, number], grad_clip: 1 };
const CIRCUIT = { n: 100, seed: 2, ablation: 'corrupted' as const, node_threshold: 0.1, edge_threshold: 0.05, edges: true };

const gpt2 = (c: Record<string, unknown>): Record<string, unknown> => ({ model_type: 'gpt2', activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, bos_token_id: 0, eos_token_id: null, ...c });

/** A toy-task model: word-level vocabulary of the task, 4 heads, d_model 64, MLP 256; trained on split 'train', scored on 'test'. */
function toy(task: 'ioi-toy' | 'greater-than-toy' | 'docstring-toy', description: string, shape: { n_layer: number; n_positions: number }, steps: number, stream: Record<string, StreamOption> = {}): ZooRecipe {
  return {
    name: task,
    description,
    task,
    config: gpt2({ n_layer: shape.n_layer, n_head: 4, n_embd: 64, n_inner: 256, n_positions: shape.n_positions }),
    tokenizer: { type: 'word-level', vocab: task },
    train: { ...TRAIN, steps, batch: 32, lr: 2e-3, task_options: { split: 'train', ...stream } },
    eval: { n: 500, seed: 1, task_options: { split: 'test' }, min_accuracy: 0.95 },
    circuit: CIRCUIT,
  };
}

export const RECIPES: readonly ZooRecipe[] = [
  {
    name: 'induction-2l',
    description: '2-layer attention-only model that continues a repeated random segment (… A B … A → B)',
    task: 'induction',
    // Untied unembedding: with tied embeddings the direct path e·eᵀ cannot hold the background's bigram
    // statistics, so a layer-0 head learned to attend to its own token to supply them, and the induction
    // head then read its query and value through that head, which the attention-pattern check cannot see.
    config: gpt2({ n_layer: 2, n_head: 4, n_embd: 64, n_positions: 48, vocab_size: 64, attn_only: true, tie_word_embeddings: false }),
    tokenizer: { type: 'integer' },
    // Repeats allowed, random prefixes and lengths, and 40% of the copied tokens replaced (only positions
    // whose token and next token are intact are scored): no positional or "not yet repeated" shortcut
    // works, and neither does matching the token before the current one. The Markov background (15% of
    // the rows) rewards a previous-token head from the start, as bigram statistics do in text.
    train: {
      ...TRAIN,
      seed: 2,
      steps: 12000,
      batch: 32,
      lr: 3e-3,
      task_options: { length: [3, 18], prefix: [0, 8], copies: 2, distinct: false, noise: 0.4 },
      background: { kind: 'markov2', fraction: 0.15, sigma_prev: 1.5, sigma_cur: 1 },
    },
    eval: { n: 500, seed: 1, task_options: { length: 10, prefix: 5 }, min_accuracy: 0.95 },
    circuit: { ...CIRCUIT, n: 50 },
  },
  toy('ioi-toy', 'indirect object identification in a toy vocabulary of 16 names and template words', { n_layer: 3, n_positions: 24 }, 3000),
  toy('greater-than-toy', '"the war lasted from XX to" → a two-digit number greater than XX', { n_layer: 2, n_positions: 16 }, 2000),
  toy('docstring-toy', 'predicts the next documented argument of a Python-like def from its signature', { n_layer: 3, n_positions: 40 }, 3000, { args: [3, 4] }),
];
