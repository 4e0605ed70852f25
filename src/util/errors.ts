/**
 * The one error type users see. Its message is a single line that says what was wrong and what to do;
 * the CLI prints `error: <message>` and exits non-zero instead of dumping a stack.
 */
export class CircuitscopeError extends Error {
  /** Optional extra line: how to fix it ("pass --model ./folder", "re-download the file", …). */
  readonly hint: string | undefined;

  constructor(message: string, hint?: string) {
    super(hint ? `${message} — ${hint}` : message);
    this.name = 'CircuitscopeError';
    this.hint = hint;
  }
}

/** Throws a CircuitscopeError when `cond` is false. */
export function check(cond: unknown, message: string | (() => string), hint?: string): asserts cond {
  if (!cond) throw new CircuitscopeError(typeof message === 'function' ? message() : message, hint);
}
