/**
 * Quick GEMM throughput probe of the compute backends (not the full `npm run bench`):
 *   npx tsx bench/gemm-probe.ts [--backends openblas,portable,ts] [--threads N] [--reps 3]
 * Shapes are M×K×N (C[M,N] = op(A)[M,K]·B[K,N]); each number is the best of `reps` timed runs.
 */
import type { Backend, BackendName } from '../src/tensor/backend.js';
import { availableBackends, createBackend } from '../src/tensor/backend-select.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const reps = Number(arg('reps') ?? 3);
const threads = arg('threads') ? Number(arg('threads')) : undefined;
const names = (arg('backends')?.split(',') as BackendName[] | undefined) ?? availableBackends();

function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
}

/** Best GFLOP/s over `reps` runs of ≥ minSeconds each. */
function measure(fn: () => void, flops: number, minSeconds = 0.25): number {
  fn();
  let best = 0;
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const t0 = performance.now();
    let dt = 0;
    do {
      fn();
      n++;
      dt = (performance.now() - t0) / 1000;
    } while (dt < minSeconds);
    best = Math.max(best, (flops * n) / dt / 1e9);
  }
  return best;
}

function gemmShape(be: Backend, m: number, k: number, n: number, transA: boolean): number {
  const a = rand(m * k), b = rand(k * n), c = new Float32Array(m * n);
  return measure(() => be.sgemm(transA, false, m, n, k, 1, a, 0, transA ? m : k, b, 0, n, 0, c, 0, n), 2 * m * n * k);
}

/** Attention: 48 heads × (Q[128,64]·Kᵀ → S[128,128]) and (P[128,128]·V[128,64]). */
function attention(be: Backend): [number, number] {
  const h = 48, t = 128, d = 64;
  const q = rand(h * t * d), kk = rand(h * t * d), v = rand(h * t * d), s = rand(h * t * t), o = new Float32Array(h * t * d);
  const flops = 2 * h * t * t * d;
  const qk = measure(() => be.sgemmStridedBatched(false, true, t, t, d, 1, q, 0, d, t * d, kk, 0, d, t * d, 0, s, 0, t, t * t, h), flops);
  const pv = measure(() => be.sgemmStridedBatched(false, false, t, d, t, 1, s, 0, t, t * t, v, 0, d, t * d, 0, o, 0, d, t * d, h), flops);
  return [qk, pv];
}

const LARGE: [number, number, number, boolean][] = [
  [64, 768, 768, false], [64, 768, 3072, false], [64, 3072, 768, false],
  [512, 768, 24576, false], [512, 24576, 768, false], [768, 512, 24576, true],
];

for (const name of names) {
  const be = createBackend(name);
  if (threads) be.setThreads(threads);
  const info = be.info();
  console.log(`\n${name}: ${info.detail}, ${be.getThreads()} thread(s)`);
  if (be.peakGflops) {
    console.log(`  FMA peak: ${be.peakGflops(0.5, 1).toFixed(0)} GFLOP/s (1 thread), ${be.peakGflops(0.5).toFixed(0)} GFLOP/s (${be.getThreads()} threads)`);
  }
  const shapes = name === 'ts' ? [[256, 256, 256, false], [64, 768, 768, false]] as const : LARGE;
  for (const [m, k, n, ta] of shapes) {
    console.log(`  ${ta ? 'Aᵀ·B ' : ''}${m}×${k}×${n}: ${gemmShape(be, m, k, n, ta).toFixed(1)} GFLOP/s`);
  }
  if (name !== 'ts') {
    const [qk, pv] = attention(be);
    console.log(`  batched 48×(128×64×128) Q·Kᵀ: ${qk.toFixed(1)} GFLOP/s, P·V: ${pv.toFixed(1)} GFLOP/s`);
  }
}
