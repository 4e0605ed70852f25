/**
 * mlp_step: one training step of a GPT-2-sized MLP block — x[512,768]·W1[768,3072] → gelu (tanh) →
 * ·W2[3072,768], MSE against a fixed target, backward, Adam (lr 1e-3) — in ms/step, ours (tensors,
 * autograd, Adam) against PyTorch autograd + torch.optim.Adam. Both start from the very same numbers
 * (handed to the peer in a temporary file) and run real training: the loss must go down.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { progress } from '../../src/cli/progress.js';
import { Adam, gelu, matmul, mean, randn, square, sub } from '../../src/tensor/index.js';
import { Rng } from '../../src/util/rng.js';
import type { Section } from '../harness.js';
import { fmt, median, round, settle } from '../harness.js';

const BATCH = 512;
const D_IN = 768;
const D_HIDDEN = 3072;
const LR = 1e-3;

const decreasing = (losses: readonly number[]): boolean => losses.length > 1 && losses[losses.length - 1]! < losses[0]!;

export const mlpStep: Section = {
  name: 'mlp_step',
  describe: 'ms per MLP training step (512×768 → 3072 → 768, MSE, Adam): ours vs PyTorch',
  usesTorch: true,
  async run(ctx) {
    const warmup = ctx.opts.quick ? 1 : 3;
    const steps = ctx.opts.quick ? 3 : 15;
    const rng = new Rng(2024);
    const x = randn([BATCH, D_IN], rng);
    const target = randn([BATCH, D_IN], rng);
    const w1 = randn([D_IN, D_HIDDEN], rng, 0.02).requireGrad();
    const w2 = randn([D_HIDDEN, D_IN], rng, 0.02).requireGrad();

    // The peer's copy of the starting point, written before ours changes the weights.
    const file = join(tmpdir(), `circuitscope-bench-mlp-${process.pid}.f32`);
    if (ctx.torch) {
      writeFileSync(file, Buffer.concat([x, target, w1, w2].map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))));
    }

    const opt = new Adam([w1, w2], { lr: LR });
    const step = (): number => {
      opt.zeroGrad();
      const y = matmul(gelu(matmul(x, w1)), w2);
      const loss = mean(square(sub(y, target)));
      loss.backward();
      opt.step();
      return loss.item();
    };
    const bar = progress('mlp_step', warmup + steps, { quiet: ctx.opts.json });
    const losses: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      losses.push(step());
      if (i >= warmup) ms.push(performance.now() - t0);
      bar.tick();
    }
    bar.stop();
    const ours = median(ms);

    let torch: number | null = null;
    let torchLosses: number[] | null = null;
    if (ctx.torch) {
      await settle(ctx.opts.quick);
      try {
        const a = await ctx.torch.tryRequest(
          { op: 'mlp_step', batch: BATCH, d_in: D_IN, d_hidden: D_HIDDEN, lr: LR, warmup, steps, data: file },
          ctx.note,
        );
        if (a) {
          torch = median(a.ms as number[]);
          torchLosses = a.losses as number[];
        }
      } finally {
        rmSync(file, { force: true });
      }
    }

    const oursDown = decreasing(losses);
    if (!oursDown) ctx.note(`mlp_step: our loss did not decrease (${losses.map((l) => l.toFixed(4)).join(', ')}) — this is not timing real training`);
    const lossLine = (who: string, l: readonly number[]): string =>
      `${who} ${l[0]!.toFixed(4)} → ${l[l.length - 1]!.toFixed(4)} (${decreasing(l) ? 'decreasing' : 'NOT decreasing'})`;
    const verdict = torch === null ? '' : ours <= torch ? `  → ${(torch / ours).toFixed(2)}× faster` : `  → ${(ours / torch).toFixed(2)}× slower`;
    const text = [
      `MLP step (512×768 → 3072 → 768, gelu, MSE, Adam; median of ${steps} after ${warmup} warm-up)`,
      `  ours ${fmt(ours)} ms  torch ${torch === null ? '—' : `${fmt(torch)} ms`}${verdict}`,
      `  loss over ${warmup + steps} steps: ${lossLine('ours', losses)}${torchLosses ? `; ${lossLine('torch', torchLosses)}` : ''}`,
    ];
    if (torchLosses) {
      const rel = Math.abs(losses[0]! - torchLosses[0]!) / Math.abs(torchLosses[0]!);
      text.push(`  same start as torch: first loss differs by ${rel.toExponential(1)} (relative)`);
    }
    return {
      json: {
        mlp_step: {
          ours_ms: round(ours, 2),
          torch_ms: round(torch, 2),
          warmup,
          steps,
          ours_loss: [losses[0]!, losses[losses.length - 1]!],
          torch_loss: torchLosses ? [torchLosses[0]!, torchLosses[torchLosses.length - 1]!] : null,
          loss_decreasing: oursDown,
        },
      },
      text,
      goals: [{
        goal: "MLP step no slower than PyTorch's",
        ok: torch === null ? null : ours <= torch,
        detail: torch === null ? 'no PyTorch' : `${fmt(ours)} vs ${fmt(torch)} ms`,
      }],
    };
  },
};
