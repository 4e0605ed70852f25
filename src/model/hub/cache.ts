/**
 * huggingface_hub's on-disk cache, read and written in its own layout so that Python tools and circuitscope
 * share downloads:
 *
 *   <cache>/models--<org>--<name>/refs/<revision>          the commit hash the revision pointed to
 *   <cache>/models--<org>--<name>/blobs/<etag>             file contents, named by the hub's ETag
 *   <cache>/models--<org>--<name>/blobs/<etag>.incomplete  a download in progress (resumable)
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<f>   relative symlink to ../../blobs/<etag>
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspectModelFolder } from './folder.js';

/** $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || os.homedir();
  const expand = (p: string): string => (p === '~' || p.startsWith('~/') ? path.join(home, p.slice(1)) : p);
  // HUGGINGFACE_HUB_CACHE is the older name huggingface_hub still honours.
  const hub = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (hub) return path.resolve(expand(hub));
  if (env.HF_HOME) return path.resolve(expand(env.HF_HOME), 'hub');
  if (env.XDG_CACHE_HOME) return path.resolve(expand(env.XDG_CACHE_HOME), 'huggingface', 'hub');
  return path.join(home, '.cache', 'huggingface', 'hub');
}

/** `openai-community/gpt2` → `models--openai-community--gpt2`. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/** A usable snapshot found in the cache. */
export interface CachedSnapshot {
  repoId: string;
  folder: string;
  commit: string;
  weightFiles: string[];
}

/** Where the cache lookup went and why each place was not usable, for the "not found" error. */
export interface CacheMiss {
  looked: string[];
}

/**
 * Looks for a complete snapshot of `revision` under each candidate repo id, in order. A snapshot counts only
 * when config.json and every weight file resolve (so a download interrupted before its symlink was made, or
 * a blob someone deleted, sends us back to the network instead of failing later in the loader).
 */
export function findCachedSnapshot(cacheDir: string, repoIds: string[], revision: string): CachedSnapshot | CacheMiss {
  const looked: string[] = [];
  for (const repoId of repoIds) {
    const repoDir = path.join(cacheDir, repoFolderName(repoId));
    const commit = isCommitHash(revision) ? revision : readRef(repoDir, revision);
    if (!isDir(repoDir)) {
      looked.push(`${repoDir} (absent)`);
      continue;
    }
    if (!commit) {
      looked.push(`${repoDir} (no refs/${revision})`);
      continue;
    }
    const folder = path.join(repoDir, 'snapshots', commit);
    if (!isDir(folder)) {
      looked.push(`${folder} (absent)`);
      continue;
    }
    const check = inspectModelFolder(folder);
    if (check.ok) return { repoId, folder, commit, weightFiles: check.weightFiles };
    looked.push(`${folder} (no ${check.missing})`);
  }
  return { looked };
}

/** The commit hash stored in refs/<revision>, or null. */
export function readRef(repoDir: string, revision: string): string | null {
  try {
    const commit = readFileSync(path.join(repoDir, 'refs', revision), 'utf8').trim();
    return isCommitHash(commit) ? commit : null;
  } catch {
    return null;
  }
}

/** Records that `revision` points at `commit` (huggingface_hub skips this when the revision is the commit). */
export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const ref = path.join(repoDir, 'refs', revision);
  mkdirSync(path.dirname(ref), { recursive: true }); // revisions like refs/pr/1 nest
  // Write-then-rename so a concurrent reader never sees an empty ref.
  const tmp = `${ref}.${process.pid}.tmp`;
  writeFileSync(tmp, commit);
  renameSync(tmp, ref);
}

export function blobPath(repoDir: string, etag: string): string {
  return path.join(repoDir, 'blobs', etag);
}

/**
 * Points snapshots/<commit>/<file> at blobs/<etag> with a relative symlink, as huggingface_hub does, so the
 * cache stays valid when the whole folder is moved. Where symlinks are not allowed (some Windows setups) the
 * blob is copied instead, which is huggingface_hub's fallback too.
 */
export function linkIntoSnapshot(repoDir: string, commit: string, file: string, etag: string): string {
  const pointer = path.join(repoDir, 'snapshots', commit, file);
  const blob = blobPath(repoDir, etag);
  mkdirSync(path.dirname(pointer), { recursive: true });
  rmSync(pointer, { force: true });
  try {
    symlinkSync(path.relative(path.dirname(pointer), blob), pointer);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    copyFileSync(blob, pointer);
  }
  return pointer;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
