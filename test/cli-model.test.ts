/** `circuitscope run` and `circuitscope cache` as a user runs them. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTensors } from '../src/tensor/index.js';
import { HookedTransformer } from '../src/model/hooked-transformer.js';
import { REPO, SHARED } from './shared.js';

const SORT = path.join(SHARED, 'models/gpt-nano-sort');
const TINY = path.join(SHARED, 'models/tiny-gpt2-random');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('circuitscope run', () => {
  it('prints the sorting model\'s next digit with its probability (--json)', () => {
    // 2 0 1 1 0 2 → sorted 0 0 1 1 2 2; after "0 0 1" the next sorted digit is 1
    const r = cli(['run', '--model', SORT, '--tokens', '2,0,1,1,0,2,0,0,1', '--top', '3', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { model: string; tokens: number[]; top: { token: number; prob: number; logit: number; str: string }[] };
    expect(j.model).toBe('gpt-nano-sort');
    expect(j.tokens).toEqual([2, 0, 1, 1, 0, 2, 0, 0, 1]);
    expect(j.top).toHaveLength(3);
    expect(j.top[0]!.token).toBe(1);
    expect(j.top[0]!.str).toBe('1');
    expect(j.top[0]!.prob).toBeGreaterThan(0.9);
    expect(j.top[0]!.logit).toBeGreaterThan(j.top[1]!.logit);
    expect(j.top.reduce((s, t) => s + t.prob, 0)).toBeCloseTo(1, 4);
  });
  it('tokenizes --prompt with BOS and prints a table', () => {
    const r = cli(['run', '--model', TINY, '--prompt', '3 4 5', '--top', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tokens\s+"0" "3" "4" "5"/);
    expect(r.stdout).toMatch(/rank\s+token\s+string\s+logit\s+prob/);
  });
  it('bad input is one error line and exit 1', () => {
    for (const args of [
      ['run', '--model', SORT, '--tokens', '1,2,3'],
      ['run', '--model', SORT, '--tokens', '1,x'],
      ['run', '--model', SORT, '--tokens', '1', '--prompt', 'a'],
      ['run', '--model', path.join(tmp, 'missing'), '--tokens', '1'],
    ]) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'))).toHaveLength(1);
      expect(r.stderr).toMatch(/^error: /m);
    }
  });
  it('a hub id that is not cached while offline says where it looked and how to use a folder', () => {
    const cache = path.join(tmp, 'hf');
    const r = cli(['run', '--model', 'gpt2', '--tokens', '1'], { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(cache);
    expect(r.stderr).toMatch(/folder/);
  });
});

describe('circuitscope cache', () => {
  it('writes the named activations with TransformerLens shapes, equal to runWithCache', async () => {
    const out = path.join(tmp, 'acts.safetensors');
    const r = cli(['cache', '--model', TINY, '--tokens', '1,2,3,4;5,6,7,8', '--hooks', 'blocks.0.attn.hook_z,blocks.1.attn.hook_pattern,ln_final.hook_scale', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const file = loadTensors(out);
    expect(Array.from(file.ints.get('tokens')!.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(file.floats.get('blocks.0.attn.hook_z')!.shape).toEqual([2, 4, 4, 16]);
    expect(file.floats.get('blocks.1.attn.hook_pattern')!.shape).toEqual([2, 4, 4, 4]);
    expect(file.floats.get('ln_final.hook_scale')!.shape).toEqual([2, 4, 1]);
    const model = await HookedTransformer.load(TINY);
    const { cache } = model.runWithCache([[1, 2, 3, 4], [5, 6, 7, 8]], { names: ['blocks.0.attn.hook_z'] });
    expect(Array.from(file.floats.get('blocks.0.attn.hook_z')!.data)).toEqual(Array.from(cache.get('blocks.0.attn.hook_z').data));
    expect(file.metadata?.model).toBe('tiny-gpt2-random');
  });
  it('an unknown hook name is a clear error and writes nothing', () => {
    const out = path.join(tmp, 'none.safetensors');
    const r = cli(['cache', '--model', TINY, '--tokens', '1,2', '--hooks', 'blocks.0.hook_zz', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown hook point "blocks.0.hook_zz"/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
