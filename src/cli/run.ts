/**
 * Runs a command action with the CLI's error contract: a CircuitscopeError (bad input) prints one line
 * `error: …` and exits 1; anything else is a bug and prints one line plus how to get the stack.
 */
import { CircuitscopeError } from '../util/errors.js';

export function reportError(err: unknown): number {
  if (err instanceof CircuitscopeError) {
    process.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
  const msg = err instanceof Error ? err.message : String(err);
  if (process.env.CIRCUITSCOPE_DEBUG) process.stderr.write(`${err instanceof Error ? err.stack : msg}\n`);
  else process.stderr.write(`internal error: ${msg.split('\n')[0]} (set CIRCUITSCOPE_DEBUG=1 for the stack trace)\n`);
  return 70;
}

/** Wraps an async action so that errors become exit codes instead of stack dumps. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** Prints a value as JSON (one object, newline-terminated) on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a positive integer option with a clear error. */
export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new CircuitscopeError(`${name} must be a positive integer, got "${v}"`);
    return n;
  };
}
