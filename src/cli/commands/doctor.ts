/** `circuitscope doctor [--json]`: versions, the compute backend in use, its threads, and a quick GEMM probe. */
import type { Command } from 'commander';
import os from 'node:os';
import { getBackend } from '../../tensor/backend-select.js';
import { gemmLabel, measureGemm, type GemmShape } from '../../tensor/measure.js';
import { packageVersion } from '../../util/package.js';
import { action, printJson } from '../run.js';

const PROBE: GemmShape = { m: 512, k: 768, n: 3072 };

export interface DoctorReport {
  circuitscope: string;
  node: string;
  v8: string;
  platform: string;
  cpu: string;
  cores: number;
  memory_gib: number;
  backend: string;
  backend_detail: string;
  threads: number;
  fallback_reason?: string;
  probe: { shape: string; gflops: number };
  peak_gflops?: number;
}

export function doctorReport(opts: { seconds?: number } = {}): DoctorReport {
  const be = getBackend();
  const info = be.info();
  const cpus = os.cpus();
  const report: DoctorReport = {
    circuitscope: packageVersion(),
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    backend: info.name,
    backend_detail: info.detail,
    threads: info.threads,
    probe: { shape: gemmLabel(PROBE), gflops: round1(measureGemm(be, PROBE, { seconds: opts.seconds ?? 0.3, maxReps: info.name === 'ts' ? 2 : 1000 })) },
  };
  if (info.fallbackReason) report.fallback_reason = info.fallbackReason;
  // The FMA peak varies with the clock the machine grants at the moment: best of three short runs.
  const peak = be.peakGflops?.bind(be);
  if (peak) report.peak_gflops = round1(Math.max(peak(0.15), peak(0.15), peak(0.15)));
  return report;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function printText(r: DoctorReport): void {
  const lines = [
    `circuitscope ${r.circuitscope}`,
    `node         ${r.node} (V8 ${r.v8}), ${r.platform}`,
    `cpu          ${r.cpu}, ${r.cores} cores, ${r.memory_gib} GiB`,
    `backend      ${r.backend} — ${r.backend_detail}`,
    `threads      ${r.threads}`,
    ...(r.fallback_reason ? [`fallback     ${r.fallback_reason}`] : []),
    `gemm probe   ${r.probe.shape}: ${r.probe.gflops} GFLOP/s`,
    ...(r.peak_gflops !== undefined ? [`fma peak     ${r.peak_gflops} GFLOP/s (${Math.round((100 * r.probe.gflops) / r.peak_gflops)}% reached by the probe)`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the installation: versions, compute backend, threads and GEMM speed')
    .option('--json', 'print one JSON object')
    .action(
      action((opts: { json?: boolean }) => {
        const r = doctorReport();
        if (opts.json) printJson(r);
        else printText(r);
      }),
    );
}
