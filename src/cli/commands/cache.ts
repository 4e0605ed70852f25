/**
 * `circuitscope cache --model … --tokens 0,1,2[;3,4,5] --hooks a,b,… --out file.safetensors`: runs the
 * batch once and writes the named hook activations (float32, TransformerLens shapes) plus the tokens.
 */
import type { Command } from 'commander';
import { CircuitscopeError } from '../../util/errors.js';
import { type IntTensor, type Tensor, saveTensors } from '../../tensor/index.js';
import { tokenBatch } from '../../model/tokens.js';
import { action, printJson } from '../run.js';
import { type InputOpts, type ModelOpts, addInputOptions, addModelOptions, inputTokens, loadModel } from '../model-args.js';

export function registerCache(program: Command): void {
  const cmd = program.command('cache').description('write hook activations for a batch of prompts to a safetensors file');
  addInputOptions(addModelOptions(cmd), true)
    .requiredOption('--hooks <names>', 'comma-separated hook names (e.g. blocks.0.attn.hook_z,blocks.1.hook_resid_post), or "all"')
    .requiredOption('--out <file>', 'the .safetensors file to write')
    .option('--split-inputs', 'per-head residual inputs (hook_q_input, …, hook_mlp_in) become hook points')
    .option('--json', 'print a JSON summary')
    .action(
      action(async (opts: ModelOpts & InputOpts & { hooks: string; out: string; splitInputs?: boolean; json?: boolean }) => {
        const model = await loadModel(opts, !!opts.json);
        const rows = inputTokens(model, opts, true);
        const all = opts.hooks.trim() === 'all';
        const names = all ? model.hookNames({ splitInputs: !!opts.splitInputs }) : opts.hooks.split(',').map((s) => s.trim()).filter(Boolean);
        if (names.length === 0) throw new CircuitscopeError('--hooks: no hook names given', 'e.g. --hooks blocks.0.attn.hook_z');
        const tokens = tokenBatch(rows, model.cfg); // [batch, pos], validated once
        const { logits, cache } = model.runWithCache(tokens, { names, splitInputs: !!opts.splitInputs });
        const tensors = new Map<string, Tensor | IntTensor>([['tokens', tokens]]);
        for (const n of names) tensors.set(n, cache.get(n));
        saveTensors(opts.out, tensors, { metadata: { model: model.cfg.name, hooks: names.join(','), format: 'circuitscope activation cache' } });
        const summary = { out: opts.out, model: model.cfg.name, batch: rows.length, pos: rows[0]!.length, logits_shape: logits.shape, hooks: names.map((n) => ({ name: n, shape: cache.get(n).shape })) };
        if (opts.json) return printJson(summary);
        process.stdout.write(`wrote ${names.length} activations for ${rows.length}×${rows[0]!.length} tokens to ${opts.out}\n`);
        for (const h of summary.hooks) process.stdout.write(`  ${h.name.padEnd(36)} [${h.shape.join(', ')}]\n`);
      }),
    );
}
