/**
 * `resolveModel("gpt2")` / `resolveModel("./my-model")`: turns what the user typed after --model into a local
 * folder holding config.json and safetensors weights — the folder itself, a complete snapshot already in the
 * Hugging Face cache (no network at all), or a fresh download into that cache.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CircuitscopeError } from '../../util/errors.js';
import { findCachedSnapshot, hubCacheDir } from './cache.js';
import { requireModelFolder } from './folder.js';
import { HubUnreachable, type HubClient } from './http.js';
import { downloadSnapshot } from './snapshot.js';

export interface ResolveOptions {
  /** Branch, tag or 40-hex commit (default 'main'). */
  revision?: string;
  /** Overrides hubCacheDir(). */
  cacheDir?: string;
  /** Overrides HF_ENDPOINT (default https://huggingface.co). */
  endpoint?: string;
  /** Never touch the network; also true when HF_HUB_OFFLINE=1. */
  offline?: boolean;
  /** No progress bar. */
  quiet?: boolean;
  /** Hub access token, else HF_TOKEN; sent as `Authorization: Bearer`. */
  token?: string;
  /** Replaces the global fetch (tests). */
  fetchImpl?: typeof fetch;
}

export interface ResolvedModel {
  folder: string;
  source: 'folder' | 'cache' | 'download';
  /** The hub repo the files came from (e.g. 'openai-community/gpt2'), null for a user folder. */
  id: string | null;
  /** Absolute paths of the safetensors files, one or more shards, in shard order. */
  weightFiles: string[];
}

/**
 * Bare names the hub moved under an organisation. huggingface_hub keeps caching them under the name that was
 * asked for, so older caches hold models--gpt2 and newer ones models--openai-community--gpt2; both are checked.
 */
const MOVED: Record<string, string> = {
  gpt2: 'openai-community/gpt2',
  'gpt2-medium': 'openai-community/gpt2-medium',
  'gpt2-large': 'openai-community/gpt2-large',
  'gpt2-xl': 'openai-community/gpt2-xl',
  distilgpt2: 'distilbert/distilgpt2',
};

/** TransformerLens model-name aliases for the models above. */
const ALIASES: Record<string, string> = {
  'gpt2-small': 'gpt2',
  distillgpt2: 'distilgpt2',
  'distill-gpt2': 'distilgpt2',
  'distil-gpt2': 'distilgpt2',
  'gpt2-xs': 'distilgpt2',
};

export async function resolveModel(idOrFolder: string, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  const input = idOrFolder.trim();
  if (looksLikePath(input) || isDir(input)) {
    const folder = path.resolve(expandHome(input));
    if (!isDir(folder)) {
      throw new CircuitscopeError(`model folder ${folder} does not exist${input !== folder ? ` (from ${input})` : ''}`, 'pass an existing folder holding config.json and model.safetensors, or a Hugging Face model id such as gpt2');
    }
    return { folder, source: 'folder', id: null, weightFiles: requireModelFolder(folder) };
  }

  const { cacheIds, downloadId } = hubIds(input);
  const revision = opts.revision ?? 'main';
  const cacheDir = path.resolve(opts.cacheDir ?? hubCacheDir());
  const cached = findCachedSnapshot(cacheDir, cacheIds, revision);
  if ('folder' in cached) return { folder: cached.folder, source: 'cache', id: cached.repoId, weightFiles: cached.weightFiles };

  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const offline = opts.offline === true || envTrue(process.env.HF_HUB_OFFLINE);
  if (offline) throw notAvailable(input, revision, cached.looked, `the hub is offline (${opts.offline ? 'offline mode' : 'HF_HUB_OFFLINE=1'})`, true);

  const client: HubClient = {
    endpoint,
    token: opts.token ?? (process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN || undefined),
    fetch: opts.fetchImpl ?? fetch,
  };
  try {
    const snap = await downloadSnapshot(client, cacheDir, downloadId, revision, opts.quiet ?? false);
    return { folder: snap.folder, source: 'download', id: downloadId, weightFiles: snap.weightFiles };
  } catch (e) {
    if (e instanceof HubUnreachable) throw notAvailable(input, revision, cached.looked, e.message, false);
    throw e;
  }
}

/** Which cache folders may hold `id`, and which repo to download it from. */
export function hubIds(id: string): { cacheIds: string[]; downloadId: string } {
  const name = ALIASES[id.toLowerCase()] ?? id;
  const valid = /^([\w.-]+\/)?[\w.-]+$/.test(name) && !name.includes('--') && !name.includes('..') && name.length <= 96;
  if (!valid) {
    throw new CircuitscopeError(
      `${JSON.stringify(id)} is neither an existing folder nor a Hugging Face model id`,
      'pass an id like gpt2 or org/name, or a folder path starting with ./ or /',
    );
  }
  const moved = MOVED[name.toLowerCase()];
  if (moved) return { cacheIds: [name.toLowerCase(), moved], downloadId: moved };
  const old = Object.keys(MOVED).find((k) => MOVED[k] === name);
  return { cacheIds: old ? [name, old] : [name], downloadId: name };
}

/** The one error for "not in the cache and cannot download": where we looked and every way out. */
function notAvailable(id: string, revision: string, looked: string[], why: string, offline: boolean): CircuitscopeError {
  const rev = revision === 'main' ? '' : ` (revision ${revision})`;
  return new CircuitscopeError(
    `model ${id}${rev} is not in the Hugging Face cache and ${why}. Looked in: ${looked.join('; ')}`,
    'pass a local folder with --model /path/to/folder (holding config.json + model.safetensors), ' +
      'or set HF_HUB_CACHE to a cache that has the model, ' +
      (offline ? 'or unset HF_HUB_OFFLINE to download it' : 'or set HF_ENDPOINT to a reachable hub mirror'),
  );
}

function looksLikePath(s: string): boolean {
  return s === '.' || s === '..' || s === '~' || /^(\.\.?|~)?[\\/]/.test(s) || path.isAbsolute(s);
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function isDir(p: string): boolean {
  try {
    return statSync(expandHome(p)).isDirectory();
  } catch {
    return false;
  }
}

/** huggingface_hub's truthy env values. */
function envTrue(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}
