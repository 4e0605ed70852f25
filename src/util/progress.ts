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

export function progress(label: string, total: number, opts: { quiet?: boolean; fields?: string[] } = {}): Progress {
  const interactive = process.stderr.isTTY && !opts.quiet && process.env.CI !== 'true';
  if (!interactive) return { tick: () => {}, stop: () => {} };
  const extra = (opts.fields ?? []).map((f) => ` ${f} {${f}}`).join('');
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}${extra}`, stream: process.stderr, hideCursor: true },
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
