/** Token inputs: validation against the model's vocabulary and context, and batching to [batch, pos]. */
import { CircuitscopeError } from '../util/errors.js';
import { IntTensor, fmtShape } from '../tensor/index.js';
import type { ModelConfig } from './config.js';

/** Token ids as an IntTensor [batch, pos] or [pos], a flat list (one prompt) or a list of equal-length lists. */
export type TokensInput = IntTensor | readonly number[] | readonly (readonly number[])[];

/** Returns tokens [batch, pos] after checking every id is in the vocabulary and pos ≤ n_ctx. */
export function tokenBatch(input: TokensInput, cfg: Pick<ModelConfig, 'dVocab' | 'nCtx' | 'name'>): IntTensor {
  let t: IntTensor;
  if (input instanceof IntTensor) {
    if (input.shape.length === 1) t = new IntTensor(input.data, [1, input.shape[0]!]);
    else if (input.shape.length === 2) t = input;
    else throw new CircuitscopeError(`tokens must be [batch, pos] or [pos], got ${fmtShape(input.shape)}`);
  } else if (input.length > 0 && Array.isArray(input[0])) {
    const rows = input as readonly (readonly number[])[];
    const n = rows[0]!.length;
    const bad = rows.findIndex((r) => r.length !== n);
    if (bad >= 0) {
      throw new CircuitscopeError(`tokens: prompt ${bad} has ${rows[bad]!.length} tokens but prompt 0 has ${n}`, 'batch prompts of equal length, or run them one at a time');
    }
    t = new IntTensor(Int32Array.from(rows.flat()), [rows.length, n]);
  } else {
    const flat = input as readonly number[];
    t = new IntTensor(Int32Array.from(flat), [1, flat.length]);
  }
  const [b, pos] = t.shape as [number, number];
  if (b === 0 || pos === 0) throw new CircuitscopeError('tokens: the batch is empty', 'pass at least one prompt with at least one token');
  if (pos > cfg.nCtx) {
    throw new CircuitscopeError(`tokens: ${pos} positions is longer than ${cfg.name}'s context of ${cfg.nCtx} (n_positions)`, `shorten the prompt to at most ${cfg.nCtx} tokens`);
  }
  const src = input instanceof IntTensor ? null : (input as readonly unknown[]).flat();
  for (let i = 0; i < t.size; i++) {
    const id = t.data[i]!;
    const raw = src ? src[i] : id;
    if (!(Number.isInteger(raw) && id >= 0 && id < cfg.dVocab)) {
      throw new CircuitscopeError(`tokens: ${String(raw)} at [${Math.floor(i / pos)}, ${i % pos}] is not a token id of ${cfg.name} (vocabulary 0…${cfg.dVocab - 1})`);
    }
  }
  return t;
}
