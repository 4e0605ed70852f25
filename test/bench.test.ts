/**
 * Smoke tests of the bench harness (`npm run bench`): it runs, its --json output has the documented
 * fields with sane numbers, and it copes without PyTorch. No speed assertions: timings are only
 * checked to be positive and finite.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PYTHON = '/usr/bin/python3';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function bench(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 << 20, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** Whether torch imports under Debian's interpreter (the peer's). */
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0;

describe('npm run bench', () => {
  it('--quick --json --only gemm,mlp_step: one JSON object with the documented fields', async () => {
    const r = await bench(['--quick', '--json', '--only', 'gemm,mlp_step'], { CIRCUITSCOPE_BENCH_TORCH: '0' });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, any>; // nothing else on stdout
    expect(report.meta.sections).toEqual(['gemm', 'mlp_step']);
    expect(report.meta.torch).toBeNull();
    expect(report.peak_gflops).toBeUndefined(); // not selected

    const gemm = report.gemm as Record<string, unknown>[];
    expect(gemm.map((g) => g.shape)).toEqual([
      '64×768×768', '64×768×3072', '64×3072×768', '512×768×24576', '512×24576×768',
      '768×512×24576 (Aᵀ·B)', '48×(128×64×128 (A·Bᵀ))',
    ]);
    const native = report.meta.backend !== 'ts';
    for (const g of gemm) {
      expect(Object.keys(g).sort()).toEqual(['fallback_gflops', 'ours_gflops', 'shape', 'torch_gflops']);
      // --quick skips the slow pure-TS fallback on the big shapes (null); numbers that are there are > 0.
      if (native) expect(positive(g.ours_gflops), JSON.stringify(g)).toBe(true);
      if (g.fallback_gflops !== null) expect(positive(g.fallback_gflops), JSON.stringify(g)).toBe(true);
      expect(g.torch_gflops).toBeNull();
    }
    expect(positive(gemm[0]!.fallback_gflops)).toBe(true);

    const mlp = report.mlp_step as Record<string, any>;
    expect(positive(mlp.ours_ms)).toBe(true);
    expect(mlp.torch_ms).toBeNull();
    expect(mlp.loss_decreasing).toBe(true);
    expect(mlp.ours_loss[1]).toBeLessThan(mlp.ours_loss[0]);

    expect(report.goals.map((g: { goal: string }) => g.goal)).toHaveLength(3);
    expect(report.goals[2].ok).toBeNull(); // no PyTorch to compare the MLP step with
    expect(positive(report.seconds)).toBe(true);
    expect(report.errors).toBeUndefined();
  });

  it('without PyTorch: one install note on stderr, tables and the goal line on stdout', async () => {
    const r = await bench(['--quick', '--only', 'peak,mlp_step'], { CIRCUITSCOPE_BENCH_PYTHON: '/nonexistent/python3' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/apt-get install python3-torch/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/^circuitscope bench — ours: .*PyTorch: not measured/);
    expect(r.stdout).toMatch(/MLP step .*\n {2}ours [\d.]+ ms {2}torch — /);
    expect(r.stdout).toMatch(/goals: .*MLP step no slower than PyTorch's: n\/a/);
  });

  it('--quick --json --only gpt2,load: the hooked GPT-2 and load fields, torch null', async () => {
    const r = await bench(['--quick', '--json', '--only', 'gpt2,load'], { CIRCUITSCOPE_BENCH_TORCH: '0' });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, any>;
    expect(report.meta.sections).toEqual(['gpt2', 'load']);
    expect(positive(report.gpt2_forward.ours_tok_s)).toBe(true);
    expect(report.gpt2_forward.torch_tok_s).toBeNull();
    expect(positive(report.gpt2_backward.ours_ms)).toBe(true);
    expect(report.gpt2_backward.torch_ms).toBeNull();
    const load = report.load as Record<string, number>;
    for (const k of ['seconds', 'peak_rss_bytes', 'weight_bytes', 'baseline_rss_bytes']) expect(positive(load[k]), k).toBe(true);
    expect(load.peak_rss_bytes).toBeGreaterThanOrEqual(load.baseline_rss_bytes);
    expect(report.goals.map((g: { ok: unknown }) => g.ok)).toEqual([null, null, null]); // no PyTorch; --quick skips the RSS goal
    expect(report.errors).toBeUndefined();
    // The random model's folder is gone after the run.
    expect(r.stderr).toMatch(/wrote a random GPT-2 .* to (\S+) in/);
    expect(existsSync(/ to (\S+) in/.exec(r.stderr)![1]!)).toBe(false);
  });

  it('rejects unknown sections and arguments with exit code 2', async () => {
    const r = await bench(['--only', 'gemm,nope']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown section 'nope'/);
  });

  it.skipIf(!hasTorch)('with PyTorch: the peer trains the same MLP from the same start', async () => {
    const r = await bench(['--quick', '--json', '--only', 'mlp_step']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, any>;
    expect(typeof report.meta.torch).toBe('string');
    const mlp = report.mlp_step;
    expect(positive(mlp.torch_ms)).toBe(true);
    // Same numbers in, same first loss out (float32 rounding apart); both go down.
    expect(Math.abs(mlp.torch_loss[0] - mlp.ours_loss[0])).toBeLessThan(1e-4 * mlp.ours_loss[0]);
    expect(mlp.torch_loss[1]).toBeLessThan(mlp.torch_loss[0]);
  });

  it.skipIf(!hasTorch)('with PyTorch: the peer computes the same GPT-2 logits and hook_z gradients', async () => {
    const r = await bench(['--quick', '--json', '--only', 'gpt2']);
    expect(r.code, r.stderr).toBe(0);
    const { gpt2_forward: fwd, gpt2_backward: bwd } = JSON.parse(r.stdout) as Record<string, any>;
    expect(positive(fwd.torch_tok_s)).toBe(true);
    expect(positive(bwd.torch_ms)).toBe(true);
    expect(fwd.agree).toBe(true);
    expect(fwd.max_rel_diff_logits).toBeLessThan(1e-3);
    expect(bwd.agree).toBe(true);
    expect(bwd.grad_rel_err_max).toBeLessThan(1e-2);
    expect(Math.abs(bwd.metric.ours - bwd.metric.torch)).toBeLessThan(1e-3 * Math.max(1, Math.abs(bwd.metric.torch)));
  });

  it.skipIf(!hasTorch)('torch_peer.py: one JSON answer per job line, errors as answers', () => {
    const jobs = [
      { op: 'gemm', m: 4, k: 4, n: 4 }, // before init
      { op: 'init', threads: 1 },
      { op: 'gemm', m: 8, k: 16, n: 4, transA: true, seconds: 0, min_reps: 2 },
      { op: 'gemm', m: 8, k: 16, n: 4, transB: true, batch: 3, seconds: 0, min_reps: 1 },
      { op: 'nope' },
    ];
    const p = spawnSync(PYTHON, ['bench/torch_peer.py'], {
      cwd: ROOT, input: jobs.map((j) => JSON.stringify(j)).join('\n') + '\n', encoding: 'utf8', timeout: 60_000,
    });
    expect(p.status, p.stderr).toBe(0);
    const answers = p.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(answers.map((a) => a.ok)).toEqual([false, true, true, true, false]);
    expect(answers[0]!.error).toMatch(/init/);
    expect(answers[1]!.threads).toBe(1);
    expect(positive(answers[2]!.gflops)).toBe(true);
    expect(answers[2]!.reps).toBe(2);
    expect(positive(answers[3]!.gflops)).toBe(true);
    expect(answers[4]!.error).toMatch(/unknown job/);
  });
});
