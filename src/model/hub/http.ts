/**
 * The few HTTP conversations we have with a Hugging Face hub (huggingface.co or an HF_ENDPOINT mirror):
 * a HEAD per file for its metadata and a GET for its bytes. Network failures are reported as HubUnreachable
 * so that the caller can fold them into one "not cached and the hub is not reachable" message.
 */
import { CircuitscopeError } from '../../util/errors.js';

export interface HubClient {
  endpoint: string;
  token: string | undefined;
  fetch: typeof fetch;
}

/** What huggingface_hub reads from a file's HEAD response. */
export interface FileMeta {
  /** X-Repo-Commit: the commit the revision resolved to (null when the server does not say). */
  commit: string | null;
  /** X-Linked-Etag ?? ETag, unquoted: the blob's name in the cache (sha256 for LFS files). */
  etag: string;
  /** X-Linked-Size ?? Content-Length. */
  size: number;
}

/** HEAD outcome: metadata, or a 404 with the hub's X-Error-Code (EntryNotFound, RepoNotFound, RevisionNotFound). */
export type HeadResult = { found: true; meta: FileMeta } | { found: false; errorCode: string | null };

/** The hub could not be reached at all (refused, DNS failure, timeout). */
export class HubUnreachable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'HubUnreachable';
  }
}

const HEAD_TIMEOUT_MS = 10_000; // huggingface_hub's default metadata timeout
const MAX_REDIRECTS = 5;

export function fileUrl(client: HubClient, repoId: string, revision: string, file: string): string {
  // Revisions such as refs/pr/1 must stay one path segment, as huggingface_hub quotes them.
  const encodedFile = file.split('/').map(encodeURIComponent).join('/');
  return `${client.endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodedFile}`;
}

export function authHeaders(client: HubClient): Record<string, string> {
  return client.token ? { authorization: `Bearer ${client.token}` } : {};
}

/**
 * HEAD a file without following redirects blindly: large (LFS) files answer with a redirect to a CDN whose
 * own headers describe the CDN object, so the hub's X-Linked-Etag / X-Linked-Size must be read from the
 * first response. Relative redirects (a renamed repo, e.g. gpt2 → openai-community/gpt2) stay on the hub
 * and are followed, as huggingface_hub does.
 */
export async function headFile(client: HubClient, repoId: string, revision: string, file: string): Promise<HeadResult> {
  let url = fileUrl(client, repoId, revision, file);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await client.fetch(url, {
        method: 'HEAD',
        redirect: 'manual',
        headers: { ...authHeaders(client), 'accept-encoding': 'identity' },
        signal: AbortSignal.timeout(HEAD_TIMEOUT_MS),
      });
    } catch (e) {
      throw unreachableOrRethrow(e, client.endpoint);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location && location.startsWith('/') && hop < MAX_REDIRECTS) {
      url = new URL(location, url).toString();
      continue;
    }
    if (res.status === 404) return { found: false, errorCode: res.headers.get('x-error-code') };
    checkStatus(res, client, repoId, file);
    return { found: true, meta: readMeta(res, repoId, file) };
  }
}

function readMeta(res: Response, repoId: string, file: string): FileMeta {
  const h = res.headers;
  const rawEtag = h.get('x-linked-etag') ?? h.get('etag');
  const etag = rawEtag ? rawEtag.replace(/^W\//, '').replace(/"/g, '').trim() : '';
  const size = Number(h.get('x-linked-size') ?? h.get('content-length') ?? NaN);
  const hint = 'is HF_ENDPOINT a Hugging Face hub (or a mirror that forwards its headers)?';
  // The etag becomes a file name inside the cache: refuse anything that could escape blobs/.
  if (!/^[\w.-]+$/.test(etag) || etag.startsWith('.')) throw new CircuitscopeError(`the hub sent no usable ETag for ${repoId}/${file} (got ${JSON.stringify(rawEtag)})`, hint);
  if (!Number.isSafeInteger(size) || size < 0) throw new CircuitscopeError(`the hub sent no file size for ${repoId}/${file}`, hint);
  return { commit: h.get('x-repo-commit'), etag, size };
}

/** Throws the user-facing error for a non-success status (404 is handled by the callers, who know the file). */
export function checkStatus(res: Response, client: HubClient, repoId: string, file: string): void {
  if (res.ok || (res.status >= 300 && res.status < 400)) return;
  if (res.status === 401 || res.status === 403) {
    // The hub also answers 401 for repos that do not exist when no token is sent.
    const why = res.headers.get('x-error-code') === 'RepoNotFound' ? 'does not exist or is private' : 'is gated or private';
    throw new CircuitscopeError(
      `${client.endpoint} refused ${repoId}/${file} (HTTP ${res.status}): the model ${why}`,
      client.token
        ? 'the HF_TOKEN in use has no access to it; accept the model licence on its page or use a token that can read it'
        : 'set HF_TOKEN to a Hugging Face access token that can read it (and accept the licence on the model page if it is gated)',
    );
  }
  throw new CircuitscopeError(`${client.endpoint} answered HTTP ${res.status} for ${repoId}/${file}`, 'try again later, or set HF_ENDPOINT to another hub mirror');
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

/** The network-level reason of a fetch failure (e.g. "ECONNREFUSED"), or null for other errors. */
export function networkReason(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  // Node's fetch throws TypeError('fetch failed') with the socket error as `cause` (sometimes nested).
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as NodeJS.ErrnoException).code;
    if (code && NETWORK_CODES.has(code)) return code;
    if (c.name === 'AggregateError') {
      const inner = (c as AggregateError).errors?.map((x) => (x as NodeJS.ErrnoException).code).find((x) => x && NETWORK_CODES.has(x));
      if (inner) return inner;
    }
  }
  if (e instanceof TypeError && /fetch failed|terminated/.test(e.message)) return e.message;
  return null;
}

function unreachableOrRethrow(e: unknown, endpoint: string): Error {
  const reason = networkReason(e);
  return reason ? new HubUnreachable(`${endpoint} is not reachable (${reason})`) : (e as Error);
}
