/** The CLI as a user runs it: `circuitscope doctor [--json]`, exit codes and one-line errors. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './shared.js';

function cli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('circuitscope doctor', () => {
  it('--json reports versions, the backend and a positive GEMM probe', () => {
    const r = cli(['doctor', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown> & { probe: { gflops: number }; threads: number };
    expect(j.circuitscope).toMatch(/^\d+\.\d+\.\d+/);
    expect(j.node).toBe(process.versions.node);
    expect(['openblas', 'portable', 'ts']).toContain(j.backend);
    expect(j.threads).toBeGreaterThanOrEqual(1);
    expect(j.probe.gflops).toBeGreaterThan(0);
    if (j.backend !== 'ts') expect(j.peak_gflops).toBeGreaterThan(0);
  });

  it('names the pure-TypeScript fallback when forced to it, with one warning line', () => {
    const r = cli(['doctor'], { CIRCUITSCOPE_BACKEND: 'ts' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/backend\s+ts — pure TypeScript/);
    expect(r.stdout).toMatch(/gemm probe\s+512×768×3072: [\d.]+ GFLOP\/s/);
  });

  it('bad input: one line on stderr and a non-zero exit code, never a stack trace', () => {
    const unknown = cli(['doctor', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown option '--bogus'/);
    const badBackend = cli(['doctor'], { CIRCUITSCOPE_BACKEND: 'cuda' });
    expect(badBackend.code).toBe(1);
    expect(badBackend.stderr.trim().split('\n')).toHaveLength(1);
    expect(badBackend.stderr).toMatch(/^error: CIRCUITSCOPE_BACKEND='cuda' is not a backend/);
    expect(badBackend.stderr).not.toMatch(/\n\s+at /);
  });
});
