/**
 * `npm run bench [-- options]`: circuitscope's speed goals, measured side by side with PyTorch (as a
 * peer process) in one run, since machines are noisy and only ratios within a run mean much.
 *
 *   --json             one JSON object on stdout, nothing else (notes and progress go to stderr)
 *   --only a,b         run only these sections (see bench/sections/index.ts), in registry order
 *   --quick            fast smoke run: short timings, few steps, the fallback only on small shapes
 *   --no-torch         do not start the PyTorch peer (also CIRCUITSCOPE_BENCH_TORCH=0); torch numbers are null
 *
 * For a clean JSON stream through npm, silence npm's own banner: `npm run -s bench -- --json`.
 *
 * Ends with the issue's acceptance goals marked ok/FAIL. A FAIL is reported, never an exit code:
 * the exit code is non-zero only when a section crashed or the arguments were wrong.
 */
import os from 'node:os';
import { getBackend } from '../src/tensor/backend-select.js';
import type { BenchContext, BenchOptions, Goal, Section } from './harness.js';
import { threadsLabel } from './harness.js';
import { SECTIONS } from './sections/index.js';
import { TorchPeer } from './torch.js';

const USAGE = `usage: npm run bench -- [--json] [--quick] [--only <section,...>] [--no-torch]
       (npm run -s bench -- --json: stdout is then exactly one JSON object)
sections:
${SECTIONS.map((s) => `  ${s.name.padEnd(10)} ${s.describe}`).join('\n')}`;

function usageError(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): BenchOptions & { only: Section[] } {
  const envTorch = process.env.CIRCUITSCOPE_BENCH_TORCH?.trim();
  const opts = { json: false, quick: false, torch: envTorch !== '0' && envTorch !== 'false', only: [...SECTIONS] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') opts.json = true;
    else if (a === '--quick') opts.quick = true;
    else if (a === '--no-torch') opts.torch = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a === '--only' || a.startsWith('--only=')) {
      const list = a === '--only' ? argv[++i] : a.slice('--only='.length);
      if (!list) usageError('--only needs a comma-separated list of sections');
      const names = list.split(',').map((s) => s.trim()).filter(Boolean);
      for (const n of names) if (!SECTIONS.some((s) => s.name === n)) usageError(`unknown section '${n}'`);
      opts.only = SECTIONS.filter((s) => names.includes(s.name));
    } else usageError(`unknown argument '${a}'`);
  }
  return opts;
}

function goalLine(goals: readonly Goal[]): string {
  const mark = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'ok' : 'FAIL');
  return `goals: ${goals.map((g) => `${g.goal}: ${mark(g.ok)} (${g.detail})`).join(' · ')}`;
}

async function main(): Promise<number> {
  const started = performance.now();
  const opts = parseArgs(process.argv.slice(2));
  const note = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);
  const out = (lines: readonly string[]): void => {
    if (!opts.json) process.stdout.write(`${lines.join('\n')}\n`);
  };

  const backend = getBackend();
  const threads = backend.getThreads();
  const torch = opts.torch && opts.only.some((s) => s.usesTorch) ? await TorchPeer.start(threads, note) : null;

  let peak: number | null | undefined;
  const ctx: BenchContext = {
    opts,
    backend,
    threads,
    torch,
    note,
    peakGflops() {
      if (peak !== undefined) return peak;
      if (!backend.peakGflops) return (peak = null);
      const runs = opts.quick ? 1 : 3;
      const seconds = opts.quick ? 0.1 : 0.5;
      peak = 0;
      for (let r = 0; r < runs; r++) peak = Math.max(peak, backend.peakGflops(seconds));
      return peak;
    },
  };

  const info = backend.info();
  out([
    `circuitscope bench — ours: ${info.name} (${info.detail}), ${threadsLabel(threads)}; ` +
      (torch ? `PyTorch ${torch.info.torch} (${threadsLabel(torch.info.threads)})` : 'PyTorch: not measured') +
      (opts.quick ? '; --quick' : ''),
  ]);

  const report: Record<string, unknown> = {
    meta: {
      backend: info.name,
      backend_detail: info.detail,
      threads,
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      node: process.versions.node,
      torch: torch ? torch.info.torch : null,
      quick: opts.quick,
      sections: opts.only.map((s) => s.name),
    },
  };
  const goals: Goal[] = [];
  const errors: Record<string, string> = {};
  try {
    for (const section of opts.only) {
      const t0 = performance.now();
      note(`${section.name}…`);
      try {
        const r = await section.run(ctx);
        Object.assign(report, r.json);
        goals.push(...(r.goals ?? []));
        out(['', ...r.text]);
      } catch (e) {
        const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
        errors[section.name] = e instanceof Error ? e.message : String(e);
        note(`section ${section.name} crashed: ${msg}`);
      }
      note(`${section.name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    torch?.close();
  }

  const seconds = (performance.now() - started) / 1000;
  report.goals = goals;
  if (Object.keys(errors).length) report.errors = errors;
  report.seconds = Math.round(seconds * 10) / 10;
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else out(['', ...(goals.length ? [goalLine(goals)] : []), `(${seconds.toFixed(1)} s)`]);
  return Object.keys(errors).length ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
