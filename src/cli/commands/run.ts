/** `circuitscope run --model … (--prompt TEXT | --tokens 0,1,2) [--top 5] [--json]`: next-token top-k at the last position. */
import type { Command } from 'commander';
import * as T from '../../tensor/index.js';
import { action, positiveInt, printJson } from '../run.js';
import { type InputOpts, type ModelOpts, addInputOptions, addModelOptions, inputTokens, loadModel } from '../model-args.js';

export interface RunReport {
  model: string;
  tokens: number[];
  str_tokens: string[] | null;
  top: { rank: number; token: number; str: string | null; logit: number; prob: number }[];
}

const pad = (s: string, n: number): string => s.padEnd(n);

export function registerRun(program: Command): void {
  const cmd = program.command('run').description('run a model on one prompt and print the next-token top-k with logits and probabilities');
  addInputOptions(addModelOptions(cmd), false)
    .option('--top <k>', 'how many next tokens to list', positiveInt('--top'), 5)
    .option('--json', 'print one JSON object')
    .action(
      action(async (opts: ModelOpts & InputOpts & { top: number; json?: boolean }) => {
        const model = await loadModel(opts, !!opts.json);
        const tokens = inputTokens(model, opts, false)[0]!;
        const logits = T.noGrad(() => model.forward([tokens])); // [1, pos, d_vocab]
        const last = T.slice(logits, 1, -1).reshape(model.cfg.dVocab); // [d_vocab]
        const probs = T.softmax(last);
        const k = Math.min(opts.top, model.cfg.dVocab);
        const { indices } = T.topk(last, k);
        const str = (id: number): string | null => (model.tokenizer ? model.tokenizer.tokenString(id) : null);
        const report: RunReport = {
          model: model.cfg.name,
          tokens,
          str_tokens: model.tokenizer ? tokens.map((t) => model.tokenizer!.tokenString(t)) : null,
          top: Array.from(indices.data, (id, i) => ({ rank: i + 1, token: id, str: str(id), logit: last.data[id]!, prob: probs.data[id]! })),
        };
        if (opts.json) return printJson(report);
        const lines = [
          `model   ${report.model} (${model.cfg.nLayers} layers, d_model ${model.cfg.dModel}, vocab ${model.cfg.dVocab})`,
          `tokens  ${report.str_tokens ? report.str_tokens.map((s) => JSON.stringify(s)).join(' ') : tokens.join(' ')}`,
          `next token at position ${tokens.length - 1}:`,
          `  ${pad('rank', 5)}${pad('token', 8)}${pad('string', 16)}${pad('logit', 11)}prob`,
          ...report.top.map((t) => `  ${pad(String(t.rank), 5)}${pad(String(t.token), 8)}${pad(t.str === null ? '-' : JSON.stringify(t.str), 16)}${pad(t.logit.toFixed(4), 11)}${t.prob.toFixed(4)}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );
}
