/**
 * gemm: GFLOP/s of the GEMM shapes a GPT-2-small-sized workload runs (M×K×N: C[M,N] = A[M,K]·B[K,N]),
 * for ours (the default backend), the pure-TypeScript fallback and PyTorch. Ours and PyTorch's are
 * timed back to back per shape, alternating for a few rounds (best of all), so that drift in the
 * machine's speed hits both alike; the fallback (~50× slower, so noise does not matter) comes after.
 */
import { progress } from '../../src/util/progress.js';
import type { Backend } from '../../src/tensor/backend.js';
import { createBackend } from '../../src/tensor/backend-select.js';
import { type GemmShape, gemmFlops, gemmLabel, measureGemm } from '../../src/tensor/measure.js';
import type { Goal, Section } from '../harness.js';
import { fmt, fmtRatio, ratio, round, settle, table, threadsLabel } from '../harness.js';

export const SHAPES: readonly GemmShape[] = [
  { m: 64, k: 768, n: 768 },
  { m: 64, k: 768, n: 3072 },
  { m: 64, k: 3072, n: 768 },
  { m: 512, k: 768, n: 24576 },
  { m: 512, k: 24576, n: 768 },
  // weight gradient: op(A) = Aᵀ with A stored [512, 768]
  { m: 768, k: 512, n: 24576, transA: true },
  // attention scores: 48 heads of Q[128,64]·Kᵀ with K stored [128,64]
  { m: 128, k: 64, n: 128, transB: true, batch: 48 },
];
const BIG: GemmShape = SHAPES[3]!;
const ATTENTION: GemmShape = SHAPES[6]!;

export interface GemmRow {
  shape: string;
  ours_gflops: number | null;
  fallback_gflops: number | null;
  torch_gflops: number | null;
}

/** GFLOP/s of exactly one call, no warm-up: for the fallback on shapes where one call takes seconds. */
const timeOneCall = (be: Backend, s: GemmShape): number => measureGemm(be, s, { warmup: false, maxReps: 1 });

export const gemm: Section = {
  name: 'gemm',
  describe: 'GEMM GFLOP/s per shape: ours vs the pure-TS fallback vs PyTorch',
  usesTorch: true,
  async run(ctx) {
    const { quick } = ctx.opts;
    const rounds = quick ? 1 : 2;
    const seconds = quick ? 0.05 : 0.4;
    const minReps = quick ? 1 : 3;
    // The fallback runs ~5 GFLOP/s: shapes over 1 GFLOP get one timed call (no warm-up); in --quick
    // mode they are skipped (null) so that the smoke run stays short.
    const fallbackOneCall = 1e9;
    const fallbackSkip = quick ? 0.4e9 : Infinity;
    const fallback = createBackend('ts');
    const peak = ctx.peakGflops();
    const bar = progress('gemm', SHAPES.length, { quiet: ctx.opts.json });
    const rows: GemmRow[] = [];
    let skipped = 0;
    const timeFallback = (s: GemmShape): number | null => {
      if (gemmFlops(s) > fallbackSkip) {
        skipped++;
        return null;
      }
      return gemmFlops(s) > fallbackOneCall ? timeOneCall(fallback, s) : measureGemm(fallback, s, { seconds: quick ? 0.02 : 0.25, minReps: 1 });
    };
    // Without the native addon, ours *is* the fallback: time it once, the fallback's way.
    const oursIsFallback = ctx.backend.name === 'ts';
    for (const s of SHAPES) {
      let ours: number | null = null;
      let torch: number | null = null;
      for (let r = 0; r < (oursIsFallback ? 1 : rounds); r++) {
        ours = oursIsFallback ? timeFallback(s) : Math.max(ours ?? 0, measureGemm(ctx.backend, s, { seconds, minReps }));
        if (ctx.torch) {
          await settle(ctx.opts.quick);
          const a = await ctx.torch.tryRequest(
            { op: 'gemm', m: s.m, k: s.k, n: s.n, transA: !!s.transA, transB: !!s.transB, batch: s.batch ?? 1, seconds, min_reps: minReps },
            ctx.note,
          );
          if (a) torch = Math.max(torch ?? 0, Number(a.gflops));
          await settle(ctx.opts.quick);
        }
      }
      const fb = oursIsFallback ? ours : timeFallback(s);
      rows.push({ shape: gemmLabel(s), ours_gflops: round(ours), fallback_gflops: round(fb, 2), torch_gflops: round(torch) });
      bar.tick();
    }
    bar.stop();
    if (skipped) ctx.note(`gemm: --quick skips the pure-TS fallback on ${skipped} shapes over ${fallbackSkip / 1e9} GFLOP (null)`);

    const header = [`GEMM (GFLOP/s, ${threadsLabel(ctx.threads)}; peak ${fmt(peak, 0)})`, 'ours', 'fallback', 'torch', 'ours/torch', 'ours/fallback', '% peak'];
    const text = table(header, rows.map((r) => [
      r.shape, fmt(r.ours_gflops), fmt(r.fallback_gflops), fmt(r.torch_gflops),
      fmtRatio(ratio(r.ours_gflops, r.torch_gflops)), fmtRatio(ratio(r.ours_gflops, r.fallback_gflops)),
      peak === null || r.ours_gflops === null ? '—' : `${Math.round((100 * r.ours_gflops) / peak)}%`,
    ]));

    text.push(`  best call of each side over ${rounds} alternating round${rounds > 1 ? 's' : ''}; torch: torch.mm / torch.bmm; ` +
      `fallback: pure TypeScript, 1 thread, a single call on shapes over ${fallbackOneCall / 1e9} GFLOP`);

    const big = rows[SHAPES.indexOf(BIG)]!.ours_gflops;
    const bigPct = peak === null || big === null ? null : (100 * big) / peak;
    const att = rows[SHAPES.indexOf(ATTENTION)]!.ours_gflops;
    const goals: Goal[] = [
      {
        goal: `${gemmLabel(BIG)} ≥ 200 GFLOP/s and ≥ 60% of peak`,
        ok: big === null ? null : big >= 200 && (bigPct === null || bigPct >= 60),
        detail: `${fmt(big)} GFLOP/s, ${bigPct === null ? 'peak n/a' : `${Math.round(bigPct)}% of ${fmt(peak, 0)}`}`,
      },
      { goal: 'batched attention ≥ 50 GFLOP/s', ok: att === null ? null : att >= 50, detail: `${fmt(att)} GFLOP/s` },
    ];
    return { json: { gemm: rows }, text, goals };
  },
};
