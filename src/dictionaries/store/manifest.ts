/**
 * manifest.json of an activation store folder: what was collected (model, hooks, token source,
 * settings) and which shards are complete. It is rewritten atomically (temp file + rename) after every
 * shard, so after a crash it lists exactly the shards that a resumed run may keep.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CircuitscopeError } from '../../util/errors.js';
import { writeJsonAtomic } from '../../util/files.js';
import type { TokenSourceInfo } from './windows.js';

export const MANIFEST = 'manifest.json';
export const STORE_FORMAT = 'circuitscope-activation-store';

export interface StoreHook {
  name: string;
  /** The hook point's TransformerLens shape, e.g. "[batch, pos, head, d_head]". */
  shape: string;
  /** Row width after flattening the axes after pos (hook_z: head·d_head). */
  d: number;
}

/** Everything that decides the shards' contents; a resumed run must match it exactly. */
export interface StoreSettings {
  contextSize: number;
  prependBos: boolean;
  /** Windows per forward pass. */
  batchSize: number;
  /** Rows per shard (the last shard of the store may have fewer). */
  shardRows: number;
  /** The shuffling buffer holds this many shards' rows; rows are mixed within one buffer fill. */
  bufferShards: number;
  seed: number;
  /** Stop after this many rows (tokens); null: the whole source. */
  tokensTotal: number | null;
}

export interface ShardEntry {
  file: string;
  rows: number;
}

export interface StoreManifest {
  format: typeof STORE_FORMAT;
  version: 1;
  model: string;
  hooks: StoreHook[];
  source: TokenSourceInfo;
  settings: StoreSettings;
  /**
   * Besides one float32 tensor [rows, d] per hook, each shard holds `tokens` [rows] (the token at that
   * position) and `row_ids` [rows] (the row's index in the unshuffled stream: window · contextSize + pos).
   */
  extras: ['tokens', 'row_ids'];
  shards: ShardEntry[];
  /** Rows in the complete shards. */
  rows: number;
  /** True once the source (or tokensTotal) is exhausted and every shard is written. */
  complete: boolean;
}

export function shardFile(i: number): string {
  return `shard_${String(i).padStart(5, '0')}.safetensors`;
}

/** Writes manifest.json atomically. */
export function writeManifest(folder: string, m: StoreManifest): void {
  writeJsonAtomic(path.join(folder, MANIFEST), m);
}

/** The manifest of a store folder, or null when the folder has none. */
export function readManifest(folder: string): StoreManifest | null {
  const file = path.join(folder, MANIFEST);
  if (!fs.existsSync(file)) return null;
  let m: StoreManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as StoreManifest;
  } catch (e) {
    throw new CircuitscopeError(`${file}: not valid JSON (${(e as Error).message})`, 'delete the folder and collect again');
  }
  if (!m || m.format !== STORE_FORMAT || !Array.isArray(m.shards) || !Array.isArray(m.hooks)) {
    throw new CircuitscopeError(`${file}: not a circuitscope activation store manifest`, 'pass a folder written by `circuitscope collect`');
  }
  return m;
}

/** Throws unless a resumed run collects the same thing as the run that wrote `old`. */
export function checkResumable(folder: string, old: StoreManifest, now: Omit<StoreManifest, 'shards' | 'rows' | 'complete'>): void {
  const diff: string[] = [];
  if (old.model !== now.model) diff.push(`model ${old.model} → ${now.model}`);
  const hooks = (m: { hooks: StoreHook[] }): string => m.hooks.map((h) => h.name).join(',');
  if (hooks(old) !== hooks(now)) diff.push(`hooks ${hooks(old)} → ${hooks(now)}`);
  if (JSON.stringify(old.source) !== JSON.stringify(now.source)) diff.push(`source ${JSON.stringify(old.source)} → ${JSON.stringify(now.source)}`);
  for (const k of Object.keys(now.settings) as (keyof StoreSettings)[]) {
    if (old.settings[k] !== now.settings[k]) diff.push(`${k} ${String(old.settings[k])} → ${String(now.settings[k])}`);
  }
  if (diff.length) {
    throw new CircuitscopeError(`${folder} holds a collection with other settings (${diff.join('; ')})`, 'resume with the same settings, or pass another --out folder');
  }
}
