/** Options shared by the commands that run a model: --model, --prompt/--tokens, --no-bos. */
import type { Command } from 'commander';
import { CircuitscopeError } from '../util/errors.js';
import { HookedTransformer } from '../model/hooked-transformer.js';
import { resolveZooModel } from '../zoo/index.js';

export interface ModelOpts {
  model: string;
  revision?: string;
  offline?: boolean;
}

export interface InputOpts {
  prompt?: string;
  tokens?: string;
  bos?: boolean;
}

/** --model (required, or with a default such as discover's zoo model), --revision, --offline. */
export function addModelOptions(cmd: Command, defaultModel?: string): Command {
  const help = 'a zoo model (induction-2l, ioi-toy, …), a Hugging Face folder (config.json + model.safetensors) or a hub id such as gpt2';
  return (defaultModel ? cmd.option('--model <id|folder>', help, defaultModel) : cmd.requiredOption('--model <id|folder>', help))
    .option('--revision <rev>', 'hub revision (branch, tag or commit)', 'main')
    .option('--offline', 'never download; use only local folders and the Hugging Face cache');
}

export function addInputOptions(cmd: Command, batch: boolean): Command {
  return cmd
    .option('--prompt <text>', 'text to tokenize with the model\'s tokenizer')
    .option('--tokens <ids>', batch ? 'token ids: 0,1,2 or a batch 0,1,2;3,4,5' : 'token ids, e.g. 0,1,2')
    .option('--no-bos', 'do not prepend the BOS token to --prompt');
}

export async function loadModel(opts: ModelOpts, quiet = false): Promise<HookedTransformer> {
  return HookedTransformer.load(resolveZooModel(opts.model), { revision: opts.revision, offline: opts.offline, quiet });
}

/** "0,1,2" or "0,1,2;3,4,5" → rows of token ids, with one clear error for anything else. */
export function parseTokenList(text: string): number[][] {
  const rows = text.split(';').map((r) => r.trim());
  return rows.map((row, i) => {
    if (!row) throw new CircuitscopeError(`--tokens: prompt ${i} is empty`, 'write ids separated by commas, prompts separated by ";" (e.g. 0,1,2;3,4,5)');
    return row.split(/[,\s]+/).filter(Boolean).map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new CircuitscopeError(`--tokens: "${s}" is not a token id`, 'token ids are non-negative integers separated by commas');
      return n;
    });
  });
}

/** The token batch for --prompt or --tokens (exactly one of them). */
export function inputTokens(model: HookedTransformer, opts: InputOpts, batch: boolean): number[][] {
  if ((opts.prompt === undefined) === (opts.tokens === undefined)) throw new CircuitscopeError('give either --prompt TEXT or --tokens IDS (exactly one)');
  if (opts.tokens !== undefined) {
    const rows = parseTokenList(opts.tokens);
    if (!batch && rows.length > 1) throw new CircuitscopeError('--tokens: this command takes one prompt', 'drop the ";"');
    return rows;
  }
  const t = model.toTokens(opts.prompt!, { prependBos: opts.bos !== false }); // [1, pos]
  return [Array.from(t.data)];
}
