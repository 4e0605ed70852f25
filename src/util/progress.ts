/**
 * Progress bars for long work (cli-progress), drawn only on an interactive terminal; in CI, pipes and
 * --json runs they stay silent so that output remains machine-readable.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Advance by `n` (default 1) and optionally update the named fields shown after the bar. */
  tick(n?: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** Named fields shown after the bar (set through tick's `fields`). */
  fields?: string[];
  /** Values are byte counts: show value/total in MB instead of raw integers. */
  bytes?: boolean;
}

export function progress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  const interactive = process.stderr.isTTY && !opts.quiet && process.env.CI !== 'true';
  if (!interactive) return { tick: () => {}, stop: () => {} };
  const extra = (opts.fields ?? []).map((f) => ` ${f} {${f}}`).join('');
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total}${opts.bytes ? ' MB' : ''} eta {eta_formatted}${extra}`,
      stream: process.stderr,
      hideCursor: true,
      // Only value/total are byte counts; percentage and eta keep cli-progress's own formatting.
      ...(opts.bytes ? { formatValue: (v: number, _o: unknown, type: string) => (type === 'value' || type === 'total' ? megabytes(v) : String(v)) } : {}),
    },
    cliProgress.Presets.shades_classic,
  );
  const init: Record<string, string> = {};
  for (const f of opts.fields ?? []) init[f] = '-';
  bar.start(total, 0, init);
  return {
    tick: (n = 1, fields) => bar.increment(n, fields),
    stop: () => bar.stop(),
  };
}

/** Bytes as megabytes with one decimal ("12.3"); the unit is printed once after the total. */
export function megabytes(n: number): string {
  return (n / 1e6).toFixed(1);
}
