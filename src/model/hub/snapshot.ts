/**
 * Fetches the files circuitscope needs from one hub repo into a cache snapshot: config.json, the safetensors
 * weights (single file or index + shards) and the tokenizer files when the repo has them. Everything is
 * HEADed first so one progress bar can show the total bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CircuitscopeError } from '../../util/errors.js';
import { progress } from '../../util/progress.js';
import { blobPath, isCommitHash, linkIntoSnapshot, repoFolderName, writeRef } from './cache.js';
import { downloadBlob, type BlobRequest } from './download.js';
import { CONFIG_FILE, INDEX_FILE, WEIGHTS_FILE, requireModelFolder, shardsOfIndex } from './folder.js';
import { fileUrl, headFile, type FileMeta, type HubClient } from './http.js';

/** Small files the tokenizer and generation code may read; skipped silently when the repo lacks them. */
export const OPTIONAL_FILES = ['tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

export interface DownloadedSnapshot {
  folder: string;
  commit: string;
  weightFiles: string[];
}

/** Downloads what is missing of `repoId@revision` into `cacheDir` and returns the complete snapshot folder. */
export async function downloadSnapshot(client: HubClient, cacheDir: string, repoId: string, revision: string, quiet: boolean): Promise<DownloadedSnapshot> {
  const repoDir = path.join(cacheDir, repoFolderName(repoId));
  const where = `${repoId}@${revision} on ${client.endpoint}`;

  const config = await headFile(client, repoId, revision, CONFIG_FILE);
  if (!config.found) {
    if (config.errorCode === 'RevisionNotFound') throw new CircuitscopeError(`no revision ${revision} of ${repoId} on ${client.endpoint}`, 'check --revision (a branch, tag or 40-hex commit)');
    if (config.errorCode === 'EntryNotFound') throw new CircuitscopeError(`${where} has no config.json`, 'circuitscope needs a transformers-format model repo');
    throw new CircuitscopeError(`no such model on ${client.endpoint}: ${repoId}`, 'check the spelling (org/name as on the model page), or pass a local folder with --model /path/to/folder');
  }
  const commit = config.meta.commit ?? (isCommitHash(revision) ? revision : null);
  if (!commit || !isCommitHash(commit)) {
    throw new CircuitscopeError(`${client.endpoint} did not say which commit ${repoId}@${revision} is (no X-Repo-Commit header)`, 'is HF_ENDPOINT a Hugging Face hub?');
  }
  // Pin every further request to that commit, so a push to the branch mid-download cannot mix versions.
  const head = async (file: string): Promise<FileMeta | null> => {
    const r = await headFile(client, repoId, commit, file);
    return r.found ? r.meta : null;
  };
  const request = (file: string, meta: FileMeta): BlobRequest => ({
    repoId, file, url: fileUrl(client, repoId, commit, file), blob: blobPath(repoDir, meta.etag), etag: meta.etag, size: meta.size,
  });
  const plan: BlobRequest[] = [request(CONFIG_FILE, config.meta)];

  const single = await head(WEIGHTS_FILE);
  if (single) {
    plan.push(request(WEIGHTS_FILE, single));
  } else {
    const index = await head(INDEX_FILE);
    if (!index) {
      throw new CircuitscopeError(
        `${where} has no ${WEIGHTS_FILE} or ${INDEX_FILE}`,
        'circuitscope reads safetensors weights only; pick a repo (or revision, e.g. refs/pr/N) that has them, or convert pytorch_model.bin locally and pass the folder with --model',
      );
    }
    // The index is small and names the shards, so it is fetched before the others are planned.
    const indexReq = request(INDEX_FILE, index);
    await downloadBlob(client, indexReq);
    linkIntoSnapshot(repoDir, commit, INDEX_FILE, index.etag);
    let shards: string[];
    try {
      shards = shardsOfIndex(readFileSync(indexReq.blob, 'utf8'));
    } catch (e) {
      throw new CircuitscopeError(`${where}: ${(e as Error).message}`);
    }
    for (const shard of shards) {
      const meta = await head(shard);
      if (!meta) throw new CircuitscopeError(`${where}: shard ${shard} listed in ${INDEX_FILE} does not exist`, 'the repo is broken at this revision; try another --revision');
      plan.push(request(shard, meta));
    }
  }
  for (const file of OPTIONAL_FILES) {
    const meta = await head(file);
    if (meta) plan.push(request(file, meta));
  }

  // Files whose blob is already cached (shared with another revision, or a previous partial run) cost nothing.
  const pending = plan.filter((r, i) => plan.findIndex((o) => o.blob === r.blob) === i && !existsSync(r.blob));
  const total = pending.reduce((s, r) => s + r.size, 0);
  const bar = progress(`downloading ${repoId}`, total, { quiet, bytes: true });
  try {
    for (const req of pending) await downloadBlob(client, req, (n) => bar.tick(n));
  } finally {
    bar.stop();
  }
  for (const req of plan) linkIntoSnapshot(repoDir, commit, req.file, req.etag);
  writeRef(repoDir, revision, commit);

  const folder = path.join(repoDir, 'snapshots', commit);
  return { folder, commit, weightFiles: requireModelFolder(folder) };
}
