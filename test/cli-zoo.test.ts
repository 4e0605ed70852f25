/**
 * The zoo on the command line: `discover` with no arguments (the README's first command) runs on
 * induction-2l and prints the circuit and its ROC AUC against the verified circuit; `zoo list`,
 * `zoo verify` and their errors.
 */
import { describe, expect, it } from 'vitest';
import { registerDiscover } from '../src/cli/commands/discover.js';
import { registerZoo } from '../src/cli/commands/zoo.js';
import { inProcessCli } from './cli-in-process.js';

const cli = inProcessCli(registerDiscover, registerZoo);

describe('circuitscope discover (no arguments)', () => {
  it('runs eap-ig on induction-2l and scores it against the verified circuit', async () => {
    const r = await cli(['discover', '--n', '10']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^eap-ig on induction \(10 prompts/m);
    expect(r.stdout).toMatch(/top nodes by \|score\|:/);
    const m = /against the verified circuit \(.*circuit\.json\): node ROC AUC ([\d.]+) \((\d+) in the circuit of (\d+)\), edge ROC AUC ([\d.]+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![3])).toBe(8); // 2 layers × 4 heads, attention-only
    expect(Number(m![1])).toBeGreaterThanOrEqual(0.8);
    expect(Number(m![4])).toBeGreaterThanOrEqual(0.8);
  }, 60_000);

  it('writes the AUC into --json output', async () => {
    const r = await cli(['discover', '--method', 'exact-node', '--n', '10', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { model: string; task: string; vs_verified_circuit: { node_auc: number; edge_auc: number | null } };
    expect(out).toMatchObject({ model: 'induction-2l', task: 'induction' });
    expect(out.vs_verified_circuit.node_auc).toBe(1);
    expect(out.vs_verified_circuit.edge_auc).toBeNull();
  }, 60_000);

  it('needs --task for models outside the zoo', async () => {
    const r = await cli(['discover', '--model', '../shared/models/gpt-nano-sort']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --task is required for models outside the zoo/);
  });
});

describe('circuitscope zoo', () => {
  it('lists the four models with accuracy and circuit size', async () => {
    const r = await cli(['zoo', 'list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; accuracy: number; heads: string[]; kib: number }[];
    expect(rows.map((x) => x.name)).toEqual(['induction-2l', 'ioi-toy', 'greater-than-toy', 'docstring-toy']);
    for (const x of rows) {
      expect(x.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(x.heads.length).toBeGreaterThan(0);
      expect(x.kib).toBeLessThanOrEqual(2048);
    }
    const text = await cli(['zoo', 'list']);
    expect(text.stdout.split('\n')[0]).toMatch(/^name\s+task\s+architecture\s+params\s+KiB\s+accuracy\s+circuit\s+train s$/);
    expect(text.stdout).toMatch(/\ninduction-2l .* 2 heads, 4 edges /);
    expect(text.stdout).toMatch(/\ngreater-than-toy .* 1 head \+ 1 MLP, 5 edges /);
  });

  it('verifies induction-2l from its weights', async () => {
    const r = await cli(['zoo', 'verify', 'induction-2l']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/circuit: same as circuit\.json/);
    // previous-token head 0.3 and induction head 1.3, by attention and by patching
    expect(r.stdout).toMatch(/attention check: agrees \(attention 0\.3, 1\.3; patching 0\.3, 1\.3\)\n/);
    expect(r.stdout.trim().endsWith('verified')).toBe(true);
  }, 60_000);

  it('gives one clear error for an unknown model', async () => {
    for (const args of [['zoo', 'train', 'gpt5'], ['zoo', 'verify', 'gpt5']]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: (unknown zoo model "gpt5"|zoo model gpt5 is not trained yet)/);
    }
  });
});
