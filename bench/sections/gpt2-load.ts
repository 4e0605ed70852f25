/**
 * load: seconds and peak RSS of `HookedTransformer.load(folder)` of the bench's random GPT-2 small
 * (bench/gpt2-fixture.ts), each run in a fresh child process (bench/load-child.mjs) so that nothing the
 * bench itself holds counts. The goal: peak RSS ≤ 1.2 × the float32 bytes of the weights. The child's
 * baseline (node + the TypeScript loader + circuitscope's modules, before any weight) is part of that
 * peak, so it is reported too, with what a perfect loader (baseline + weights) would reach. The peak
 * is the child's VmHWM, not getrusage's maxRSS, which on Linux inherits the forking bench's RSS (see
 * load-child.mjs).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpt2Fixture } from '../gpt2-fixture.js';
import type { Section } from '../harness.js';
import { fmt, median, round } from '../harness.js';
import { progress } from '../../src/util/progress.js';

const CHILD = fileURLToPath(new URL('../load-child.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GOAL = 1.2;

interface ChildResult {
  seconds: number;
  peak_rss_bytes: number;
  baseline_rss_bytes: number;
  baseline_peak_rss_bytes: number;
  rss_source: 'VmHWM' | 'maxRSS';
  max_rss_bytes: number;
  params: number;
}

/** The flags that let node run TypeScript: whatever this process was started with (tsx's), else tsx's --import. */
function loaderArgs(): string[] {
  const a = process.execArgv.filter((x) => !x.startsWith('--inspect'));
  return a.some((x) => x.includes('tsx')) ? a : ['--import', 'tsx'];
}

/** Newest modification time of any file under `dir`. */
function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * How the child loads circuitscope: the built package under plain node (what `npx circuitscope` runs)
 * when dist/ is at least as new as src/, else the sources under tsx (whose loader adds ~35 MB of baseline).
 */
function childSetup(): { args: string[]; module: string; label: string } {
  const dist = path.join(ROOT, 'dist/index.js');
  if (fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) return { args: [], module: dist, label: 'node + dist/' };
  return { args: loaderArgs(), module: path.join(ROOT, 'src/model/hooked-transformer.ts'), label: 'node + tsx + src/ (dist/ missing or stale: npm run build)' };
}

function runChild(folder: string, setup: ReturnType<typeof childSetup>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...setup.args, CHILD, folder, setup.module], { cwd: ROOT, timeout: 300_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`load child failed (${err.message.split('\n')[0]}): ${stderr.trim().slice(-500)}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult);
      } catch {
        reject(new Error(`load child: unreadable output ${JSON.stringify(stdout.slice(0, 200))}`));
      }
    });
  });
}

const mb = (bytes: number): string => `${fmt(bytes / 1e6, 0)} MB`;

export const gpt2Load: Section = {
  name: 'load',
  describe: 'seconds and peak RSS of HookedTransformer.load of GPT-2 small (fresh process) vs its weight bytes',
  async run(ctx) {
    const fx = gpt2Fixture(ctx);
    const runs = ctx.opts.quick ? 1 : 3;
    const results: ChildResult[] = [];
    const setup = childSetup();
    const bar = progress('load', runs, { quiet: ctx.opts.json });
    try {
      for (let r = 0; r < runs; r++) {
        results.push(await runChild(fx.folder, setup));
        bar.tick();
      }
    } finally {
      bar.stop();
    }
    if (results.some((r) => r.params !== fx.params)) throw new Error(`load child loaded ${results[0]!.params} parameters, the file has ${fx.params}`);

    const seconds = median(results.map((r) => r.seconds));
    const peak = Math.max(...results.map((r) => r.peak_rss_bytes)); // the worst run: the goal is a bound
    const baseline = median(results.map((r) => r.baseline_rss_bytes));
    const baselinePeak = Math.max(...results.map((r) => r.baseline_peak_rss_bytes));
    const w = fx.weightBytes;
    const peakRatio = peak / w;
    const perfect = (baseline + w) / w; // a loader that adds nothing but the weights
    const overhead = peak - baseline - w;

    const notes: string[] = [];
    if (ctx.opts.quick) notes.push('--quick: a toy model, whose weights are tiny next to the baseline; the goal is not checked');
    else if (perfect > GOAL) {
      notes.push(`the child's baseline alone (${mb(baseline)}) puts even a perfect loader at ${perfect.toFixed(2)}× the weights: the ≤ ${GOAL}× goal cannot be met in this process setup`);
    }

    const text = [
      `Load (HookedTransformer.load in a fresh process — ${setup.label} — ${fx.label}; ${runs > 1 ? `median of ${runs} runs, peak RSS the largest` : '1 run'})`,
      `  ${fmt(seconds, 2)} s   peak RSS (${results[0]!.rss_source}) ${mb(peak)} = ${peakRatio.toFixed(2)}× the ${mb(w)} of float32 weights (goal ≤ ${GOAL}×)`,
      `  child baseline before loading: RSS ${mb(baseline)} (peak so far ${mb(baselinePeak)}); a perfect loader would peak at ${perfect.toFixed(2)}×;` +
        ` this one adds ${mb(overhead)} beyond baseline + weights`,
      ...notes.map((n) => `  note: ${n}`),
    ];
    return {
      json: {
        load: {
          seconds: round(seconds, 3),
          peak_rss_bytes: peak,
          weight_bytes: w,
          baseline_rss_bytes: baseline,
          baseline_peak_rss_bytes: baselinePeak,
          peak_over_weights: round(peakRatio, 3),
          perfect_loader_over_weights: round(perfect, 3),
          rss_source: results[0]!.rss_source,
          child: setup.label,
          runs,
          ...(notes.length ? { notes } : {}),
        },
      },
      text,
      goals: [{
        goal: `load peak RSS ≤ ${GOAL}× weights`,
        ok: ctx.opts.quick ? null : peakRatio <= GOAL,
        detail: `${mb(peak)} / ${mb(w)} = ${peakRatio.toFixed(2)}×${perfect > GOAL ? ` (baseline alone → ${perfect.toFixed(2)}×)` : ''}`,
      }],
    };
  },
};
