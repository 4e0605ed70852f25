/**
 * Model resolution against a fake hub on 127.0.0.1: huggingface_hub's cache layout, cache hits without any
 * request, resumed and restarted transfers, size/sha checks, offline errors, and local folders.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { hubCacheDir, resolveModel } from '../src/model/hub/index.js';
import { CircuitscopeError } from '../src/util/errors.js';
import { SHARED } from './shared.js';

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const SHARDED_COMMIT = 'b'.repeat(40);

interface Logged { method: string; url: string; range: string | undefined; auth: string | undefined; status: number }
interface Behaviour {
  /** Destroy the socket after this many body bytes of model.safetensors, for the first `times` GETs. */
  drop?: { bytes: number; times: number };
  ignoreRange?: boolean;
  /** Announce a different size / etag for model.safetensors in its HEAD. */
  sizeDelta?: number;
  fakeEtag?: string;
  requireToken?: string;
}

/** A minimal hub: /<repo>/resolve/<rev>/<file>, LFS-style 302 to /cdn/<sha> for .safetensors files. */
class FakeHub {
  server!: http.Server;
  endpoint = '';
  log: Logged[] = [];
  b: Behaviour = {};
  private drops = 0;
  constructor(readonly repos: Record<string, { commit: string; files: Record<string, Buffer> }>) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
  reset(b: Behaviour = {}): void {
    this.log = [];
    this.b = b;
    this.drops = 0;
  }
  /** GETs that carried bytes of `file` (for .safetensors: the CDN leg after the hub's redirect). */
  gets(file: string): Logged[] {
    return this.log.filter((l) => l.method === 'GET' && (file.endsWith('.safetensors') ? l.url.startsWith('/cdn/') : l.url.endsWith('/' + file)));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = decodeURIComponent(req.url ?? '');
    const entry: Logged = { method: req.method ?? '', url, range: req.headers.range, auth: req.headers.authorization, status: 0 };
    this.log.push(entry);
    const send = (status: number, headers: Record<string, string | number> = {}, body?: Buffer): void => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (this.b.requireToken && req.headers.authorization !== `Bearer ${this.b.requireToken}`) return send(401, { 'x-error-code': 'GatedRepo' });
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url);
    if (cdn) {
      const data = Object.values(this.repos).flatMap((r) => Object.values(r.files)).find((d) => sha256(d) === cdn[1]);
      return data ? this.serveBody(req, res, entry, data, this.isWeights(data)) : send(404);
    }
    const m = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const repo = m && this.repos[m[1]!];
    if (!m || !repo) return send(404, { 'x-error-code': 'RepoNotFound' });
    if (m[2] !== 'main' && m[2] !== repo.commit) return send(404, { 'x-error-code': 'RevisionNotFound' });
    const file = m[3]!;
    const data = repo.files[file];
    if (!data) return send(404, { 'x-error-code': 'EntryNotFound' });
    const isWeights = file === 'model.safetensors';
    const etag = isWeights && this.b.fakeEtag ? this.b.fakeEtag : sha256(data);
    const size = data.length + (isWeights ? (this.b.sizeDelta ?? 0) : 0);
    if (file.endsWith('.safetensors')) {
      // Like the hub's LFS files: the metadata lives on the redirect, the bytes on the CDN.
      return send(302, { location: `${this.endpoint}/cdn/${sha256(data)}`, 'x-repo-commit': repo.commit, 'x-linked-etag': `"${etag}"`, 'x-linked-size': size, etag: '"cdn-etag"' });
    }
    if (req.method === 'HEAD') return send(200, { etag: `W/"${etag}"`, 'x-repo-commit': repo.commit, 'content-length': size });
    this.serveBody(req, res, entry, data, false);
  }

  private isWeights(data: Buffer): boolean {
    return Object.values(this.repos).some((r) => r.files['model.safetensors'] === data);
  }

  private serveBody(req: http.IncomingMessage, res: http.ServerResponse, entry: Logged, data: Buffer, isWeights: boolean): void {
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !this.b.ignoreRange) start = Number(range[1]);
    if (start >= data.length && start > 0) {
      entry.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    entry.status = start > 0 ? 206 : 200;
    res.writeHead(entry.status, {
      'content-length': data.length - start,
      ...(start > 0 ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const body = data.subarray(start);
    if (isWeights && this.b.drop && this.drops < this.b.drop.times) {
      this.drops++;
      // Send part of the body, then cut the connection mid-transfer.
      res.write(body.subarray(0, this.b.drop.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }
}

const tmpRoots: string[] = [];
function tmp(prefix: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), `circuitscope-hub-${prefix}-`));
  tmpRoots.push(d);
  return d;
}

// The served model goes through a temp copy, as a user's folder would.
const SOURCE = tmp('source');
for (const f of ['config.json', 'model.safetensors']) writeFileSync(path.join(SOURCE, f), readFileSync(path.join(SHARED, 'models/tiny-gpt2-random', f)));
const CONFIG = readFileSync(path.join(SOURCE, 'config.json'));
const WEIGHTS = readFileSync(path.join(SOURCE, 'model.safetensors'));
const VOCAB = Buffer.from(JSON.stringify({ hello: 0, world: 1 }));
const SHARD1 = Buffer.from('shard one bytes '.repeat(40));
const SHARD2 = Buffer.from('shard two bytes '.repeat(50));
const INDEX = Buffer.from(JSON.stringify({ metadata: {}, weight_map: { 'h.1.w': 'model-00002-of-00002.safetensors', 'h.0.w': 'model-00001-of-00002.safetensors', 'h.1.b': 'model-00002-of-00002.safetensors' } }));

const hub = new FakeHub({
  'test-org/tiny-gpt2': { commit: COMMIT, files: { 'config.json': CONFIG, 'model.safetensors': WEIGHTS, 'vocab.json': VOCAB } },
  'test-org/sharded': {
    commit: SHARDED_COMMIT,
    files: { 'config.json': CONFIG, 'model.safetensors.index.json': INDEX, 'model-00001-of-00002.safetensors': SHARD1, 'model-00002-of-00002.safetensors': SHARD2 },
  },
});
const repoDir = (cache: string): string => path.join(cache, 'models--test-org--tiny-gpt2');
const blob = (cache: string): string => path.join(repoDir(cache), 'blobs', sha256(WEIGHTS));

beforeAll(() => hub.start());
afterAll(async () => {
  await hub.stop();
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});
beforeEach(() => {
  hub.reset();
  // The developer's own hub settings must not leak into these tests.
  for (const k of ['HF_HUB_OFFLINE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_ENDPOINT']) vi.stubEnv(k, '');
});
afterEach(() => vi.unstubAllEnvs());

async function rejection(p: Promise<unknown>): Promise<CircuitscopeError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(CircuitscopeError);
  return e as CircuitscopeError;
}

describe('download into the cache', () => {
  it('writes huggingface_hub layout, then resolves from the cache without any request', async () => {
    const cache = tmp('cache');
    const r = await resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint + '/', quiet: true });
    const snap = path.join(repoDir(cache), 'snapshots', COMMIT);
    expect(r).toEqual({ folder: snap, source: 'download', id: 'test-org/tiny-gpt2', weightFiles: [path.join(snap, 'model.safetensors')] });
    expect(readFileSync(path.join(repoDir(cache), 'refs', 'main'), 'utf8')).toBe(COMMIT);
    expect(readlinkSync(path.join(snap, 'model.safetensors'))).toBe(`../../blobs/${sha256(WEIGHTS)}`);
    expect(readlinkSync(path.join(snap, 'config.json'))).toBe(`../../blobs/${sha256(CONFIG)}`);
    expect(readFileSync(blob(cache)).equals(WEIGHTS)).toBe(true);
    expect(readFileSync(path.join(snap, 'vocab.json')).equals(VOCAB)).toBe(true);
    expect(readdirSync(snap).sort()).toEqual(['config.json', 'model.safetensors', 'vocab.json']); // absent tokenizer files skipped
    expect(readdirSync(path.join(repoDir(cache), 'blobs')).sort()).toEqual([sha256(CONFIG), sha256(VOCAB), sha256(WEIGHTS)].sort());
    // Files after config.json are fetched at the pinned commit.
    expect(hub.log.find((l) => l.method === 'HEAD' && l.url.endsWith('/model.safetensors'))?.url).toBe(`/test-org/tiny-gpt2/resolve/${COMMIT}/model.safetensors`);
    expect(hub.gets('model.safetensors')).toHaveLength(1);

    const before = hub.log.length;
    const again = await resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true });
    expect(again).toEqual({ ...r, source: 'cache' });
    expect(hub.log.length).toBe(before);
    // A 40-hex revision reads snapshots/<commit> directly.
    expect((await resolveModel('test-org/tiny-gpt2', { cacheDir: cache, revision: COMMIT, offline: true })).folder).toBe(snap);
  });

  it('downloads a sharded repo: index and shards in order', async () => {
    const cache = tmp('cache');
    const r = await resolveModel('test-org/sharded', { cacheDir: cache, endpoint: hub.endpoint, quiet: true });
    const snap = path.join(cache, 'models--test-org--sharded', 'snapshots', SHARDED_COMMIT);
    expect(r.weightFiles).toEqual([path.join(snap, 'model-00001-of-00002.safetensors'), path.join(snap, 'model-00002-of-00002.safetensors')]);
    expect(readFileSync(r.weightFiles[0]!).equals(SHARD1)).toBe(true);
    expect(readFileSync(r.weightFiles[1]!).equals(SHARD2)).toBe(true);
  });

  it('resumes an interrupted transfer with a Range request', async () => {
    const cache = tmp('cache');
    hub.reset({ drop: { bytes: 100_000, times: 1 } });
    const r = await resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true });
    const gets = hub.gets('model.safetensors');
    expect(gets.map((g) => [g.range, g.status])).toEqual([[undefined, 200], ['bytes=100000-', 206]]);
    expect(readFileSync(r.weightFiles[0]!).equals(WEIGHTS)).toBe(true);
    expect(existsSync(blob(cache) + '.incomplete')).toBe(false);
  });

  it('keeps the partial file when retries run out, and a later call resumes from it', async () => {
    const cache = tmp('cache');
    hub.reset({ drop: { bytes: 50_000, times: 4 } });
    const e = await rejection(resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true }));
    expect(e.message).toMatch(/interrupted 4 times/);
    expect(e.message).toContain('run the same command again');
    expect(statSync(blob(cache) + '.incomplete').size).toBe(200_000);
    expect(hub.gets('model.safetensors').map((g) => g.range)).toEqual([undefined, 'bytes=50000-', 'bytes=100000-', 'bytes=150000-']);

    hub.reset();
    const r = await resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true });
    expect(hub.gets('model.safetensors').map((g) => [g.range, g.status])).toEqual([['bytes=200000-', 206]]);
    expect(readFileSync(r.weightFiles[0]!).equals(WEIGHTS)).toBe(true);
  });

  it('restarts from zero when the server ignores Range', async () => {
    const cache = tmp('cache');
    hub.reset({ drop: { bytes: 100_000, times: 1 }, ignoreRange: true });
    const r = await resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true });
    expect(hub.gets('model.safetensors').map((g) => [g.range, g.status])).toEqual([[undefined, 200], ['bytes=100000-', 200]]);
    expect(statSync(r.weightFiles[0]!).size).toBe(WEIGHTS.length);
    expect(readFileSync(r.weightFiles[0]!).equals(WEIGHTS)).toBe(true);
  });

  it('rejects a size mismatch and deletes the partial file', async () => {
    const cache = tmp('cache');
    hub.reset({ sizeDelta: 7 });
    const e = await rejection(resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true }));
    expect(e.message).toContain(`size mismatch for test-org/tiny-gpt2/model.safetensors`);
    expect(e.message).toContain(`announced ${WEIGHTS.length + 7}`);
    expect(existsSync(blob(cache))).toBe(false);
    expect(existsSync(blob(cache) + '.incomplete')).toBe(false);
    expect(existsSync(path.join(repoDir(cache), 'refs', 'main'))).toBe(false);
  });

  it('rejects bytes whose sha256 differs from the etag', async () => {
    const cache = tmp('cache');
    const fake = sha256('something else');
    hub.reset({ fakeEtag: fake });
    const e = await rejection(resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true }));
    expect(e.message).toContain(`its sha256 is ${sha256(WEIGHTS)} but the hub's ETag says ${fake}`);
    expect(readdirSync(path.join(repoDir(cache), 'blobs')).some((f) => f.startsWith(fake))).toBe(false);
  });

  it('explains 404, 401 and sends the token as Bearer', async () => {
    const cache = tmp('cache');
    const missing = await rejection(resolveModel('test-org/nope', { cacheDir: cache, endpoint: hub.endpoint, quiet: true }));
    expect(missing.message).toContain(`no such model on ${hub.endpoint}: test-org/nope`);

    hub.reset({ requireToken: 'secret' });
    const denied = await rejection(resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true }));
    expect(denied.message).toMatch(/HTTP 401.*set HF_TOKEN/);
    vi.stubEnv('HF_TOKEN', 'secret');
    const r = await resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: hub.endpoint, quiet: true });
    expect(r.source).toBe('download');
    expect(new Set(hub.log.filter((l) => !l.url.startsWith('/cdn/')).map((l) => l.auth))).toEqual(new Set([undefined, 'Bearer secret']));
  });
});

describe('offline and unreachable', () => {
  it('offline and not cached: one error naming the folders looked in and the ways out', async () => {
    const cache = tmp('cache');
    vi.stubEnv('HF_HUB_OFFLINE', '1');
    const e = await rejection(resolveModel('gpt2-small', { cacheDir: cache, endpoint: hub.endpoint }));
    expect(e.message).toContain('model gpt2-small is not in the Hugging Face cache and the hub is offline (HF_HUB_OFFLINE=1)');
    expect(e.message).toContain(`${path.join(cache, 'models--gpt2')} (absent)`);
    expect(e.message).toContain(`${path.join(cache, 'models--openai-community--gpt2')} (absent)`);
    expect(e.message).toContain('--model /path/to/folder (holding config.json + model.safetensors)');
    expect(e.message).toContain('HF_HUB_CACHE');
    expect(hub.log).toHaveLength(0);
  });

  it('unreachable hub: names the endpoint and the reason', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const cache = tmp('cache');
    const e = await rejection(resolveModel('test-org/tiny-gpt2', { cacheDir: cache, endpoint: `http://127.0.0.1:${port}` }));
    expect(e.message).toContain(`http://127.0.0.1:${port} is not reachable (ECONNREFUSED)`);
    expect(e.message).toContain(`Looked in: ${repoDir(cache)} (absent)`);
    expect(e.message).toContain('HF_ENDPOINT');
  });
});

describe('cache lookup', () => {
  /** A hand-made cache entry, as huggingface_hub leaves it. */
  function fakeCacheEntry(cache: string, folder: string, commit: string): void {
    const dir = path.join(cache, folder);
    mkdirSync(path.join(dir, 'blobs'), { recursive: true });
    mkdirSync(path.join(dir, 'refs'), { recursive: true });
    mkdirSync(path.join(dir, 'snapshots', commit), { recursive: true });
    writeFileSync(path.join(dir, 'refs', 'main'), commit);
    for (const [f, data] of [['config.json', CONFIG], ['model.safetensors', WEIGHTS]] as const) {
      writeFileSync(path.join(dir, 'blobs', sha256(data)), data);
      symlinkSync(`../../blobs/${sha256(data)}`, path.join(dir, 'snapshots', commit, f));
    }
  }

  it('bare gpt2 (and its TransformerLens alias) finds models--openai-community--gpt2', async () => {
    const cache = tmp('cache');
    fakeCacheEntry(cache, 'models--openai-community--gpt2', COMMIT);
    const snap = path.join(cache, 'models--openai-community--gpt2', 'snapshots', COMMIT);
    for (const id of ['gpt2', 'gpt2-small']) {
      const r = await resolveModel(id, { cacheDir: cache, offline: true });
      expect(r).toEqual({ folder: snap, source: 'cache', id: 'openai-community/gpt2', weightFiles: [path.join(snap, 'model.safetensors')] });
    }
  });

  it('skips a snapshot whose weights are missing', async () => {
    const cache = tmp('cache');
    fakeCacheEntry(cache, 'models--gpt2', COMMIT);
    rmSync(path.join(cache, 'models--gpt2', 'blobs', sha256(WEIGHTS)));
    const e = await rejection(resolveModel('gpt2', { cacheDir: cache, offline: true }));
    expect(e.message).toContain(`${path.join(cache, 'models--gpt2', 'snapshots', COMMIT)} (no model.safetensors`);
  });

  it('hubCacheDir: HF_HUB_CACHE > HF_HOME/hub > ~/.cache/huggingface/hub', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/a/cache', HF_HOME: '/b', HOME: '/h' })).toBe('/a/cache');
    expect(hubCacheDir({ HF_HOME: '/b', HOME: '/h' })).toBe('/b/hub');
    expect(hubCacheDir({ HOME: '/h' })).toBe('/h/.cache/huggingface/hub');
    expect(hubCacheDir({ HF_HUB_CACHE: '~/hf', HOME: '/h' })).toBe('/h/hf');
  });
});

describe('local folders', () => {
  it('resolves a folder with model.safetensors', async () => {
    const r = await resolveModel(SOURCE);
    expect(r).toEqual({ folder: SOURCE, source: 'folder', id: null, weightFiles: [path.join(SOURCE, 'model.safetensors')] });
  });

  it('resolves a sharded index to its distinct shards in order, and names a missing shard', async () => {
    const dir = tmp('sharded');
    writeFileSync(path.join(dir, 'config.json'), CONFIG);
    writeFileSync(path.join(dir, 'model.safetensors.index.json'), INDEX);
    writeFileSync(path.join(dir, 'model-00001-of-00002.safetensors'), SHARD1);
    const e = await rejection(resolveModel(dir));
    expect(e.message).toContain(`model folder ${dir} has no shard model-00002-of-00002.safetensors listed in model.safetensors.index.json`);
    writeFileSync(path.join(dir, 'model-00002-of-00002.safetensors'), SHARD2);
    const r = await resolveModel(dir);
    expect(r.weightFiles).toEqual([path.join(dir, 'model-00001-of-00002.safetensors'), path.join(dir, 'model-00002-of-00002.safetensors')]);
  });

  it('missing weights, missing config and missing folders give clear errors', async () => {
    const dir = tmp('pt');
    writeFileSync(path.join(dir, 'config.json'), CONFIG);
    writeFileSync(path.join(dir, 'pytorch_model.bin'), 'pickle');
    const e = await rejection(resolveModel(dir));
    expect(e.message).toContain(`model folder ${dir} has no model.safetensors (or model.safetensors.index.json with its shards)`);
    expect(e.message).toContain('from safetensors.torch import save_file');

    const empty = tmp('empty');
    expect((await rejection(resolveModel(empty))).message).toContain(`model folder ${empty} has no config.json`);
    const gone = path.join(empty, 'nope');
    expect((await rejection(resolveModel(gone))).message).toContain(`model folder ${gone} does not exist`);
    expect((await rejection(resolveModel('./no-such-model-folder'))).message).toContain('does not exist (from ./no-such-model-folder)');
    expect((await rejection(resolveModel('not a model id'))).message).toContain('is neither an existing folder nor a Hugging Face model id');
  });
});
