/**
 * What every bench section shares: the Section interface the registry in sections/index.ts lists,
 * the run context (options, backend, the PyTorch peer, the measured peak), the acceptance goals a
 * section reports, and small helpers (tables, medians, settling between sides).
 */
import type { Backend } from '../src/tensor/backend.js';
import type { TorchPeer } from './torch.js';

export interface BenchOptions {
  /** A fast smoke run: short timings, fewer steps, the pure-TS fallback only on small shapes. */
  quick: boolean;
  /** Print one JSON object on stdout instead of tables. */
  json: boolean;
  /** Measure PyTorch next to ours (false with --no-torch or CIRCUITSCOPE_BENCH_TORCH=0). */
  torch: boolean;
}

/** One acceptance goal of the issue, checked against this run's numbers. */
export interface Goal {
  goal: string;
  /** null when this run could not check it (e.g. no PyTorch to compare against). */
  ok: boolean | null;
  /** The measured value(s) behind the verdict, e.g. "263.7 GFLOP/s, 80% of peak". */
  detail: string;
}

export interface SectionResult {
  /** Merged into the top-level JSON object (each section owns its keys, e.g. `gemm`). */
  json: Record<string, unknown>;
  /** The human-readable table (or lines) for this section. */
  text: string[];
  goals?: Goal[];
}

export interface BenchContext {
  readonly opts: BenchOptions;
  /** The backend every op uses (getBackend()): "ours". */
  readonly backend: Backend;
  readonly threads: number;
  /** The PyTorch peer, or null when it is disabled or unavailable (then torch numbers are null). */
  readonly torch: TorchPeer | null;
  /** The machine's FMA peak measured in this run (best of a few runs; measured once, on first use). */
  peakGflops(): number | null;
  /** A progress/diagnostic line on stderr (never stdout: --json output must stay one JSON object). */
  note(msg: string): void;
}

export interface Section {
  /** The name used by --only and as the JSON key(s) it owns. */
  name: string;
  /** One line for --help. */
  describe: string;
  /** Whether it measures PyTorch too (the peer is only started when a selected section does). */
  usesTorch?: boolean;
  run(ctx: BenchContext): Promise<SectionResult>;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Pause before handing the cores from one side to the other: OpenBLAS's idle threads (ours and
 * PyTorch's) busy-wait for a while after a call, and would otherwise eat into the next side's time.
 */
export const settle = (quick = false): Promise<void> => sleep(quick ? 50 : 200);

/** A number rounded to `digits` decimals (null stays null), for the JSON. */
export function round(x: number | null, digits = 1): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function fmt(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

export function fmtRatio(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`;
}

export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** Columns: the first left-aligned, the rest right-aligned; the header's first cell is the title. */
export function table(header: string[], rows: string[][]): string[] {
  const width = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const pad = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c + ' '.repeat(width[i]! - [...c].length) : ' '.repeat(width[i]! - [...c].length) + c))
      .join('   ')
      .trimEnd();
  return [pad(header), ...rows.map(pad)];
}

export const threadsLabel = (n: number): string => `${n} thread${n === 1 ? '' : 's'}`;
