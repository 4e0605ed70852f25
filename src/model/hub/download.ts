/**
 * Downloads one blob into the cache: streamed to blobs/<etag>.incomplete (weights can be GBs, so never held
 * in memory), resumed with a Range request after a dropped connection — in this call or a later one —,
 * checked against the hub's size and sha256, then renamed into place in one step so that a blob that exists
 * is always complete.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { CircuitscopeError } from '../../util/errors.js';
import { authHeaders, checkStatus, networkReason, type HubClient } from './http.js';

export interface BlobRequest {
  repoId: string;
  file: string;
  url: string;
  /** Final location, blobs/<etag>. */
  blob: string;
  etag: string;
  size: number;
}

/** Attempts per call after the first; a later call resumes from the partial file anyway. */
const MAX_RETRIES = 3;
const RETRY_DELAY_MS = 200;
/** Abort a transfer when no byte arrived for this long (a stalled socket otherwise hangs forever). */
const STALL_MS = 60_000;

/** Disk-side failures: retrying the network transfer cannot fix these. */
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'EMFILE']);

/** Raised for a transfer that may succeed if resumed. */
class Interrupted extends Error {}

/** Downloads `req` unless its blob is already in the cache; `onBytes` receives byte deltas (negative on restart). */
export async function downloadBlob(client: HubClient, req: BlobRequest, onBytes: (n: number) => void = () => {}): Promise<void> {
  if (existsSync(req.blob)) return;
  mkdirSync(path.dirname(req.blob), { recursive: true });
  const part = `${req.blob}.incomplete`;
  // Attempts report how many bytes are on disk; the caller's bar only ever sees the difference.
  let reported = 0;
  const onDisk = (n: number): void => {
    onBytes(n - reported);
    reported = n;
  };
  let lastReason = '';
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer(client, req, part, onDisk);
      break;
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
      lastReason = e.message;
      if (attempt >= MAX_RETRIES) {
        const have = sizeOf(part);
        throw new CircuitscopeError(
          `download of ${req.repoId}/${req.file} was interrupted ${attempt + 1} times (${lastReason}); ${have} of ${req.size} bytes are kept in ${part}`,
          'run the same command again to resume from there, or check the connection / HF_ENDPOINT',
        );
      }
      await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * 2 ** attempt));
    }
  }
  await verify(req, part);
  renameSync(part, req.blob);
}

/** One GET: resumes from the partial file when there is one, appends until the body ends or breaks. */
async function transfer(client: HubClient, req: BlobRequest, part: string, onDisk: (bytes: number) => void): Promise<void> {
  let have = sizeOf(part);
  if (have > req.size) {
    rmSync(part, { force: true }); // longer than the file can be: not ours to resume
    have = 0;
  }
  onDisk(have);
  if (have === req.size) return; // a previous call got every byte but stopped before verifying

  const stall = new AbortController();
  let timer = setTimeout(() => stall.abort(new Error(`no data for ${STALL_MS / 1000} s`)), STALL_MS);
  const kick = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(new Error(`no data for ${STALL_MS / 1000} s`)), STALL_MS);
  };
  try {
    let res: Response;
    try {
      res = await client.fetch(req.url, {
        headers: { ...authHeaders(client), 'accept-encoding': 'identity', ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
        redirect: 'follow',
        signal: stall.signal,
      });
    } catch (e) {
      throw new Interrupted(networkReason(e) ?? (e as Error).message);
    }
    if (res.status === 416) {
      // The server cannot serve our range (the partial file is stale): start over.
      await res.body?.cancel();
      rmSync(part, { force: true });
      onDisk(0);
      throw new Interrupted('the server rejected the resume range (HTTP 416)');
    }
    if (res.status >= 500) {
      await res.body?.cancel();
      throw new Interrupted(`HTTP ${res.status}`);
    }
    if (res.status === 404) throw new CircuitscopeError(`${client.endpoint} no longer has ${req.repoId}/${req.file} (HTTP 404 on download)`, 'the revision may have changed; run again');
    checkStatus(res, client, req.repoId, req.file);

    if (res.status === 206) {
      // Only append when the server resumed exactly where the partial file ends.
      const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
      if (start !== undefined && Number(start) !== have) {
        await res.body?.cancel();
        rmSync(part, { force: true });
        onDisk(0);
        throw new Interrupted(`the server resumed at byte ${start}, not ${have}`);
      }
    } else if (have > 0) {
      // A server that ignores Range answers 200 with the whole file: overwrite instead of appending.
      have = 0;
      onDisk(0);
    }
    const append = have > 0;
    const length = res.headers.get('content-length');
    if (length !== null && have + Number(length) !== req.size && res.headers.get('content-encoding') == null) {
      await res.body?.cancel();
      rmSync(part, { force: true });
      throw sizeMismatch(req, have + Number(length), 'the server offers');
    }
    if (!res.body) throw new Interrupted('empty response body');

    let written = have;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        kick();
        onDisk((written += chunk.length));
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>), counter, createWriteStream(part, { flags: append ? 'a' : 'w' }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code && DISK_CODES.has(code)) throw new CircuitscopeError(`cannot write ${part}: ${(e as Error).message}`, 'free some disk space or set HF_HUB_CACHE to a writable folder');
      const reason = stall.signal.aborted ? String((stall.signal.reason as Error)?.message ?? 'stalled') : networkReason(e) ?? (e as Error).message;
      throw new Interrupted(reason);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Size, and sha256 when the etag is one (LFS files): a mismatch deletes the partial file. */
async function verify(req: BlobRequest, part: string): Promise<void> {
  const got = sizeOf(part);
  if (got !== req.size) {
    rmSync(part, { force: true });
    throw sizeMismatch(req, got, 'the download has');
  }
  if (/^[0-9a-f]{64}$/.test(req.etag)) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(part), hash);
    const digest = hash.digest('hex');
    if (digest !== req.etag) {
      rmSync(part, { force: true });
      throw new CircuitscopeError(
        `${req.repoId}/${req.file} is corrupt: its sha256 is ${digest} but the hub's ETag says ${req.etag}; the download was deleted`,
        'run again; if it repeats, a proxy or HF_ENDPOINT mirror is altering the file',
      );
    }
  }
}

function sizeMismatch(req: BlobRequest, got: number, what: string): CircuitscopeError {
  return new CircuitscopeError(
    `size mismatch for ${req.repoId}/${req.file}: ${what} ${got} bytes but the hub announced ${req.size}; the partial download was deleted`,
    'run again; if it repeats, a proxy or HF_ENDPOINT mirror is serving a different file',
  );
}

function sizeOf(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}
