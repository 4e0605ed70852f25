/**
 * Picks the compute backend. getBackend() is the process-wide choice used by every op:
 *   CIRCUITSCOPE_BACKEND=openblas|portable|ts forces one (an error if it is unavailable);
 *   otherwise openblas if the addon was built with it, else the addon's portable kernel, else the
 *   pure-TypeScript fallback — with one warning line on stderr, once per process.
 * CIRCUITSCOPE_THREADS=N sets the thread count (default: the number of cores).
 */
import { CircuitscopeError } from '../util/errors.js';
import type { Backend, BackendName } from './backend.js';
import { NativeBackend, loadNative } from './backend-native.js';
import { TsBackend } from './backend-ts.js';
import { validateThreads } from './gemm-args.js';

const NAMES: readonly BackendName[] = ['openblas', 'portable', 'ts'];
const BUILD_HINT = 'run `npm run build:native` to see why';

/** Backends usable in this process, fastest first. */
export function availableBackends(): BackendName[] {
  const native = loadNative();
  if (!native.addon) return ['ts'];
  return native.addon.info().openblas ? ['openblas', 'portable', 'ts'] : ['portable', 'ts'];
}

/** A specific backend (for tests and benchmarks); throws a CircuitscopeError when it is unavailable. */
export function createBackend(name: BackendName): Backend {
  if (!NAMES.includes(name)) {
    throw new CircuitscopeError(`unknown backend '${String(name)}'`, `use one of ${NAMES.join(', ')}`);
  }
  if (name === 'ts') return new TsBackend();
  const native = loadNative();
  if (!native.addon) {
    throw new CircuitscopeError(`backend '${name}' is unavailable: native addon not loaded (${native.error})`, BUILD_HINT);
  }
  if (name === 'openblas' && !native.addon.info().openblas) {
    throw new CircuitscopeError("backend 'openblas' is unavailable: the native addon was built without OpenBLAS",
      'install libopenblas-dev and pkg-config, then run `npm run build:native`');
  }
  return new NativeBackend(native.addon, name);
}

const WARNED = Symbol.for('circuitscope.tsFallbackWarned');

/** Prints the fallback warning at most once per process (even if this module is loaded twice). */
function warnFallback(reason: string): void {
  const g = globalThis as Record<symbol, unknown>;
  if (g[WARNED]) return;
  g[WARNED] = true;
  process.stderr.write(
    `circuitscope: native addon unavailable (${reason}); using the pure-TypeScript fallback (slow). ` +
    'Run `npm run build:native` to see why.\n');
}

function autoBackend(): Backend {
  const native = loadNative();
  if (native.addon) {
    const hasBlas = native.addon.info().openblas;
    return hasBlas ? new NativeBackend(native.addon, 'openblas')
      : new NativeBackend(native.addon, 'portable', 'the native addon was built without OpenBLAS');
  }
  warnFallback(native.error);
  return new TsBackend(native.error);
}

let singleton: Backend | undefined;

/** The process-wide backend (created on first use from CIRCUITSCOPE_BACKEND / CIRCUITSCOPE_THREADS). */
export function getBackend(): Backend {
  if (singleton) return singleton;
  const forced = process.env.CIRCUITSCOPE_BACKEND?.trim();
  let backend: Backend;
  if (forced) {
    if (!(NAMES as readonly string[]).includes(forced)) {
      throw new CircuitscopeError(`CIRCUITSCOPE_BACKEND='${forced}' is not a backend`, `use one of ${NAMES.join(', ')}, or unset it`);
    }
    backend = createBackend(forced as BackendName);
  } else {
    backend = autoBackend();
  }
  const threads = process.env.CIRCUITSCOPE_THREADS?.trim();
  if (threads) backend.setThreads(validateThreads(/^\d+$/.test(threads) ? Number(threads) : threads, 'CIRCUITSCOPE_THREADS'));
  singleton = backend;
  return backend;
}

/**
 * Runs `fn` with another backend as the process-wide one (restored afterwards, even on error): for tests
 * of the TypeScript code paths on a machine that has the addon, and for benchmarks of the fallback.
 */
export function withBackend<T>(backend: Backend | BackendName, fn: () => T): T {
  const prev = getBackend();
  singleton = typeof backend === 'string' ? createBackend(backend) : backend;
  try {
    return fn();
  } finally {
    singleton = prev;
  }
}
