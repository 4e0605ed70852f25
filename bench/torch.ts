/**
 * The PyTorch peer: `/usr/bin/python3 bench/torch_peer.py`, spawned once per bench run and kept
 * alive, so that each section can time ours and PyTorch's back to back (never concurrently: the peer
 * sits blocked on stdin while ours runs). Protocol: one JSON job per line on its stdin, one JSON
 * object per line on its stdout in answer ({"ok": true, ...} or {"ok": false, "error": "..."});
 * EOF on stdin ends it. See torch_peer.py for the jobs.
 *
 * PyTorch (Debian's python3-torch) is only ever a benchmark peer, never a dependency: when the
 * interpreter or torch is missing, start() prints one note and returns null, and the sections report
 * torch numbers as null.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** torch imports only under Debian's interpreter (the `python3` on PATH may be another one). */
export const DEFAULT_PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./torch_peer.py', import.meta.url));
const INSTALL_HINT = 'to compare against PyTorch: `apt-get install python3-torch` (it must import under /usr/bin/python3)';
/** Longest any single job may take before the peer is given up on. */
const JOB_TIMEOUT_MS = 120_000;

export interface TorchInfo {
  torch: string;
  python: string;
  threads: number;
}

type Answer = Record<string, unknown> & { ok: boolean; error?: string };

export class TorchPeer {
  private dead: string | null = null;
  private waiting: ((a: Answer) => void) | null = null;
  private failNext: ((e: Error) => void) | null = null;
  info: TorchInfo = { torch: '?', python: '?', threads: 0 };

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const resolve = this.waiting;
      this.waiting = null;
      this.failNext = null;
      if (!resolve) return;
      try {
        resolve(JSON.parse(line) as Answer);
      } catch {
        resolve({ ok: false, error: `unreadable answer from the peer: ${line.slice(0, 200)}` });
      }
    });
    const die = (why: string): void => {
      this.dead ??= why;
      const fail = this.failNext;
      this.waiting = null;
      this.failNext = null;
      fail?.(new Error(why));
    };
    child.on('error', (e) => die(`cannot run the peer: ${e.message}`));
    child.on('exit', (code, signal) => die(`the peer exited (${signal ?? `code ${code}`})`));
    child.stdin.on('error', () => {}); // EPIPE after the peer died: reported through 'exit'
  }

  /**
   * Starts the peer with `threads` threads (torch.set_num_threads, plus OMP/OpenBLAS thread counts),
   * or returns null with one note on stderr when it cannot run.
   */
  static async start(threads: number, note: (msg: string) => void): Promise<TorchPeer | null> {
    const python = process.env.CIRCUITSCOPE_BENCH_PYTHON?.trim() || DEFAULT_PYTHON;
    if (!existsSync(python)) {
      note(`PyTorch peer unavailable: ${python} not found; torch numbers are null. ${INSTALL_HINT}`);
      return null;
    }
    const threadEnv = String(threads);
    const child = spawn(python, [PEER], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: threadEnv, OPENBLAS_NUM_THREADS: threadEnv, MKL_NUM_THREADS: threadEnv },
    });
    const peer = new TorchPeer(child);
    try {
      const hello = await peer.request({ op: 'init', threads });
      peer.info = { torch: String(hello.torch), python: String(hello.python), threads: Number(hello.threads) };
      if (peer.info.threads !== threads) note(`PyTorch runs ${peer.info.threads} threads, ours ${threads}`);
      return peer;
    } catch (e) {
      note(`PyTorch peer unavailable: ${(e as Error).message}; torch numbers are null. ${INSTALL_HINT}`);
      peer.close();
      return null;
    }
  }

  /** Sends one job and waits for its answer; throws when the peer failed it or is gone. */
  request(job: Record<string, unknown>): Promise<Answer> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    if (this.waiting) return Promise.reject(new Error('internal: one peer job at a time'));
    return new Promise<Answer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.dead ??= `the peer did not answer '${String(job.op)}' within ${JOB_TIMEOUT_MS / 1000} s`;
        this.child.kill();
        reject(new Error(this.dead));
      }, JOB_TIMEOUT_MS);
      this.waiting = (a) => {
        clearTimeout(timer);
        if (a.ok) resolve(a);
        else reject(new Error(a.error ?? 'the peer failed the job'));
      };
      this.failNext = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.child.stdin.write(`${JSON.stringify(job)}\n`);
    });
  }

  /**
   * request() for a measurement: on failure, one note and null (the section reports torch as null
   * for this row and goes on).
   */
  async tryRequest(job: Record<string, unknown>, note: (msg: string) => void): Promise<Answer | null> {
    try {
      return await this.request(job);
    } catch (e) {
      note(`PyTorch ${String(job.op)}: ${(e as Error).message}; reporting null`);
      return null;
    }
  }

  /** Ends the peer (EOF on its stdin; killed if it is still running a job). */
  close(): void {
    this.dead ??= 'closed';
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin.end();
      const t = setTimeout(() => this.child.kill(), 2000);
      t.unref();
      this.child.once('exit', () => clearTimeout(t));
    }
  }
}
