/**
 * gpt2: the hooked GPT-2 small against the same model written plainly in PyTorch, both reading the
 * bench's random checkpoint (bench/gpt2-fixture.ts):
 *
 *   gpt2_forward   logits [8, 64, 50257] of 8 × 64 seeded random tokens under noGrad, in tokens/s:
 *                  ours = HookedTransformer.load(folder) then model.forward(tokens)
 *   gpt2_backward  forward + backward of Σ_b logits[b, −1, 7] − logits[b, −1, 42] with gradients at
 *                  every blocks.{l}.attn.hook_z [8, 64, 12, 64], in ms: ours = model.gradients(…); the
 *                  weights require grad on neither side
 *
 * Before anything is timed, each side's warm-up output is checked against the other's (all logits:
 * max|Δ| / max|logits|; every hook_z gradient: |Δ| / |g|), so that the two never time different
 * computations. Timed rounds alternate ours and PyTorch's, one call each, so a slow spell of the
 * machine hits both; the numbers are medians.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HookedTransformer, type Metric } from '../../src/model/hooked-transformer.js';
import * as T from '../../src/tensor/index.js';
import { progress } from '../../src/util/progress.js';
import { Rng } from '../../src/util/rng.js';
import { gpt2Fixture } from '../gpt2-fixture.js';
import type { BenchContext, Goal, Section } from '../harness.js';
import { fmt, fmtRatio, median, ratio, round, settle, table } from '../harness.js';

/** The metric's logit difference: token 7's logit minus token 42's at the last position. */
const GOOD = 7;
const BAD = 42;
const LOGITS_TOL = 1e-3;
const GRAD_TOL = 1e-2;

/** Writes tensors' float32 values back to back (the peer's `compare` files). */
function writeF32(file: string, tensors: readonly T.Tensor[]): void {
  const fd = openSync(file, 'w');
  try {
    for (const t of tensors) {
      const d = t.data.subarray(0, t.size);
      writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}

type TorchCall = (warmUp: boolean) => Promise<number | null>;

/**
 * A warm-up call of each side, then `rounds` timed calls of each, alternating ours and PyTorch's with a
 * pause between sides. `torch` returns its own timing of one call (ms), or null when the peer failed
 * (then PyTorch's times are null).
 */
async function alternate(ctx: BenchContext, rounds: number, ours: (warmUp: boolean) => void, torch: TorchCall | null, tick: () => void): Promise<{ ours: number[]; torch: number[] | null }> {
  const oursMs: number[] = [];
  let torchMs: number[] | null = torch ? [] : null;
  for (let r = 0; r <= rounds; r++) {
    const t0 = performance.now();
    ours(r === 0);
    if (r > 0) oursMs.push(performance.now() - t0);
    tick();
    if (torch && torchMs) {
      await settle(ctx.opts.quick);
      const ms = await torch(r === 0);
      if (ms === null) torchMs = null;
      else if (r > 0) torchMs.push(ms);
      tick();
      await settle(ctx.opts.quick);
    }
  }
  return { ours: oursMs, torch: torchMs };
}

const sci = (x: number | null): string => (x === null ? '—' : x.toExponential(1));
const sig3 = (x: number | null): number | null => (x === null ? null : Number(x.toPrecision(3)));

export const gpt2Bench: Section = {
  name: 'gpt2',
  describe: 'hooked GPT-2 small: forward tokens/s and forward+backward to every attn.hook_z in ms, ours vs PyTorch',
  usesTorch: true,
  async run(ctx) {
    const fx = gpt2Fixture(ctx);
    const { cfg } = fx;
    const [batch, pos] = ctx.opts.quick ? [2, 16] : [8, 64];
    const fwdRounds = ctx.opts.quick ? 1 : 5;
    const bwdRounds = ctx.opts.quick ? 1 : 3;
    const rng = new Rng(1234);
    const ids = Int32Array.from({ length: batch * pos }, () => rng.int(cfg.dVocab));
    const tokens = new T.IntTensor(ids, [batch, pos]);
    const tokenRows = Array.from({ length: batch }, (_, b) => Array.from(ids.subarray(b * pos, (b + 1) * pos)));
    const names = Array.from({ length: cfg.nLayers }, (_, l) => `blocks.${l}.attn.hook_z`);
    const metric: Metric = (logits) => {
      const last = T.slice(logits, 1, pos - 1, pos); // [batch, 1, d_vocab]
      return T.sum(T.sub(T.slice(last, 2, GOOD, GOOD + 1), T.slice(last, 2, BAD, BAD + 1)));
    };
    const logitsFile = join(fx.folder, 'ours-logits.f32');
    const gradsFile = join(fx.folder, 'ours-grads.f32');

    let model: HookedTransformer | null = await HookedTransformer.load(fx.folder);
    const loadJob = { op: 'gpt2_load', file: fx.file, n_layer: cfg.nLayers, n_head: cfg.nHeads, layer_norm_epsilon: cfg.normEps };
    const peer = ctx.torch && (await ctx.torch.tryRequest(loadJob, ctx.note)) ? ctx.torch : null;
    /** One peer call of `op` (timed by the peer); the warm-up also compares against our output in `compare`. */
    const torchCall = (op: string, compare: string, onCheck: (a: Record<string, unknown>) => void): TorchCall | null =>
      peer && (async (warmUp) => {
        const a = await peer.tryRequest({ op, tokens: tokenRows, reps: 1, good: GOOD, bad: BAD, compare: warmUp ? compare : null }, ctx.note);
        if (!a) return null;
        if (warmUp) onCheck(a);
        return (a.ms as number[])[0]!;
      });

    const bar = progress('gpt2', (1 + fwdRounds + 1 + bwdRounds) * (peer ? 2 : 1), { quiet: ctx.opts.json });
    let fwd: { ours: number[]; torch: number[] | null };
    let bwd: { ours: number[]; torch: number[] | null };
    // Filled by the warm-up calls (a holder object: TypeScript does not follow assignments in callbacks).
    const check = { logitsDiff: null as number | null, gradErr: null as number[] | null, oursValue: 0, torchValue: null as number | null };
    try {
      fwd = await alternate(ctx, fwdRounds, (warmUp) => {
        const logits = T.noGrad(() => model!.forward(tokens)); // [batch, pos, d_vocab]
        if (warmUp && peer) writeF32(logitsFile, [logits]);
      }, torchCall('gpt2_forward', logitsFile, (a) => void (check.logitsDiff = a.max_rel_diff as number)), () => bar.tick());

      bwd = await alternate(ctx, bwdRounds, (warmUp) => {
        const res = model!.gradients(tokens, metric, { names });
        if (!warmUp) return;
        check.oursValue = res.value;
        if (peer) writeF32(gradsFile, names.map((n) => res.grads.get(n)));
      }, torchCall('gpt2_backward', gradsFile, (a) => {
        check.gradErr = a.grad_rel_err as number[];
        check.torchValue = a.value as number;
      }), () => bar.tick());
    } finally {
      bar.stop();
      model = null;
      if (peer) await peer.tryRequest({ op: 'gpt2_free' }, ctx.note);
    }

    const oursFwd = median(fwd.ours);
    const torchFwd = fwd.torch ? median(fwd.torch) : null;
    const oursBwd = median(bwd.ours);
    const torchBwd = bwd.torch ? median(bwd.torch) : null;
    const tokS = (ms: number | null): number | null => (ms === null ? null : (batch * pos) / (ms / 1000));
    const oursTokS = tokS(oursFwd)!;
    const torchTokS = tokS(torchFwd);
    const { logitsDiff, gradErr, oursValue, torchValue } = check;
    const maxGradErr = gradErr === null ? null : Math.max(...gradErr);
    const fwdAgree = torchFwd === null ? null : logitsDiff !== null && logitsDiff < LOGITS_TOL;
    const bwdAgree = torchBwd === null ? null : maxGradErr !== null && maxGradErr < GRAD_TOL;
    if (fwdAgree === false) ctx.note(`gpt2: our logits differ from PyTorch's (max|Δ|/max|logits| = ${sci(logitsDiff)} ≥ ${LOGITS_TOL}): the forward times are not comparable`);
    if (bwdAgree === false) ctx.note(`gpt2: our hook_z gradients differ from PyTorch's (worst |Δ|/|g| = ${sci(maxGradErr)} ≥ ${GRAD_TOL}): the backward times are not comparable`);

    const speedFwd = ratio(oursTokS, torchTokS);
    const speedBwd = ratio(torchBwd, oursBwd);
    const text = [
      `GPT-2 (${fx.label}; tokens ${batch} × ${pos}; median of ${fwdRounds} forward / ${bwdRounds} forward+backward rounds, alternating, after 1 warm-up each)`,
      ...table(['', 'ours', 'torch', 'ours vs torch'], [
        ['forward tokens/s', fmt(oursTokS, 0), fmt(torchTokS, 0), fmtRatio(speedFwd)],
        ['forward ms', fmt(oursFwd), fmt(torchFwd), ''],
        [`fwd+bwd ms (${names.length} hook_z grads)`, fmt(oursBwd), fmt(torchBwd), fmtRatio(speedBwd)],
      ]).map((l) => `  ${l}`),
      `  ratios are speed (> 1× = ours faster); goals: forward ≥ 1×, fwd+bwd ≥ 0.8×`,
    ];
    if (peer) {
      const verdict = (agree: boolean | null, tol: number): string => `${agree === false ? 'DIFFERENT' : 'ok'}: tolerance ${tol}`;
      text.push(`  same computation? max|Δlogits|/max|logits| ${sci(logitsDiff)} (${verdict(fwdAgree, LOGITS_TOL)}), worst hook_z gradient |Δ|/|g| ${sci(maxGradErr)} (${verdict(bwdAgree, GRAD_TOL)}),` +
        ` metric ours ${oursValue.toFixed(4)} torch ${torchValue === null ? '—' : torchValue.toFixed(4)}`);
    }

    const goals: Goal[] = [
      {
        goal: "GPT-2 forward ≥ PyTorch's tokens/s",
        ok: torchTokS === null ? null : !!fwdAgree && oursTokS >= torchTokS,
        detail: torchTokS === null ? 'no PyTorch' : `${fmt(oursTokS, 0)} vs ${fmt(torchTokS, 0)} tok/s${fwdAgree ? '' : ', outputs differ'}`,
      },
      {
        goal: "GPT-2 fwd+bwd ≥ 0.8× PyTorch's speed",
        ok: torchBwd === null ? null : !!bwdAgree && oursBwd <= torchBwd / 0.8,
        detail: torchBwd === null ? 'no PyTorch' : `${fmt(oursBwd)} vs ${fmt(torchBwd)} ms = ${fmtRatio(speedBwd)}${bwdAgree ? '' : ', gradients differ'}`,
      },
    ];
    return {
      json: {
        gpt2_forward: {
          ours_tok_s: round(oursTokS),
          torch_tok_s: round(torchTokS),
          ours_ms: round(oursFwd, 2),
          torch_ms: round(torchFwd, 2),
          batch,
          pos,
          rounds: fwdRounds,
          max_rel_diff_logits: sig3(logitsDiff),
          agree: fwdAgree,
        },
        gpt2_backward: {
          ours_ms: round(oursBwd, 2),
          torch_ms: round(torchBwd, 2),
          rounds: bwdRounds,
          hook_points: names.length,
          grad_rel_err_max: sig3(maxGradErr),
          metric: { ours: oursValue, torch: torchValue },
          agree: bwdAgree,
        },
      },
      text,
      goals,
    };
  },
};
