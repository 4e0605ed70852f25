/**
 * What makes a folder a loadable Hugging Face model: `config.json` plus safetensors weights, either one
 * `model.safetensors` or a sharded `model.safetensors.index.json` whose shards are all present. The same
 * check serves user-given folders and cached snapshots, so both accept exactly the same layouts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CircuitscopeError } from '../../util/errors.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** Either the absolute weight files (in shard order) or a description of what is missing. */
export type FolderCheck = { ok: true; weightFiles: string[] } | { ok: false; missing: string; hint: string };

/** Inspects `dir` without throwing; `missing` names the first absent piece, `hint` says how to fix it. */
export function inspectModelFolder(dir: string): FolderCheck {
  // existsSync follows symlinks, so a snapshot link whose blob is gone counts as missing.
  if (!isFile(path.join(dir, CONFIG_FILE))) {
    return { ok: false, missing: CONFIG_FILE, hint: 'a Hugging Face model folder needs the config.json saved by `save_pretrained`' };
  }
  if (isFile(path.join(dir, WEIGHTS_FILE))) return { ok: true, weightFiles: [path.join(dir, WEIGHTS_FILE)] };
  const indexPath = path.join(dir, INDEX_FILE);
  if (isFile(indexPath)) {
    let shards: string[];
    try {
      shards = shardsOfIndex(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      return { ok: false, missing: `a valid ${INDEX_FILE}`, hint: (e as Error).message };
    }
    const absent = shards.filter((s) => !isFile(path.join(dir, s)));
    if (absent.length) {
      return { ok: false, missing: `shard${absent.length > 1 ? 's' : ''} ${absent.join(', ')} listed in ${INDEX_FILE}`, hint: 'copy or re-download every shard into the folder' };
    }
    return { ok: true, weightFiles: shards.map((s) => path.join(dir, s)) };
  }
  return { ok: false, missing: `${WEIGHTS_FILE} (or ${INDEX_FILE} with its shards)`, hint: conversionHint(dir) };
}

/** Like inspectModelFolder, but throws one CircuitscopeError naming the folder and what to do. */
export function requireModelFolder(dir: string): string[] {
  const check = inspectModelFolder(dir);
  if (!check.ok) throw new CircuitscopeError(`model folder ${dir} has no ${check.missing}`, check.hint);
  return check.weightFiles;
}

/**
 * The distinct shard file names of an HF sharded index (`{"weight_map": {tensor: file}}`), sorted by name:
 * HF names shards `model-00001-of-00003.safetensors`, so name order is shard order and does not depend on
 * which tensor happens to be listed first.
 */
export function shardsOfIndex(json: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${INDEX_FILE} is not valid JSON`);
  }
  const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new Error(`${INDEX_FILE} has no "weight_map" object`);
  const files = new Set<string>();
  for (const [tensor, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || !file) throw new Error(`${INDEX_FILE} maps tensor ${tensor} to ${JSON.stringify(file)}, not a file name`);
    // Shards live beside the index; refuse paths that would escape the folder (or the snapshot).
    if (file.includes('..') || path.isAbsolute(file)) throw new Error(`${INDEX_FILE} names shard ${file} outside the folder`);
    files.add(file);
  }
  if (!files.size) throw new Error(`${INDEX_FILE} has an empty "weight_map"`);
  return [...files].sort();
}

function conversionHint(dir: string): string {
  const has = (f: string): boolean => existsSync(path.join(dir, f));
  if (has('pytorch_model.bin') || has('pytorch_model.bin.index.json')) {
    const src = path.join(dir, 'pytorch_model.bin');
    const dst = path.join(dir, WEIGHTS_FILE);
    return (
      'only PyTorch pickles (pytorch_model.bin) are present; circuitscope reads safetensors only. Convert with ' +
      `\`python -c "import torch; from safetensors.torch import save_file; sd = torch.load('${src}', map_location='cpu'); ` +
      `save_file({k: v.contiguous() for k, v in sd.items()}, '${dst}')"\`` +
      ' (tied weights may need de-duplicating), or re-save with `model.save_pretrained(folder, safe_serialization=True)`'
    );
  }
  if (has('model.safetensors.incomplete')) return 'model.safetensors is still downloading or was interrupted; finish the download';
  return 'put the safetensors weights (model.safetensors, or model.safetensors.index.json and its shards) beside config.json';
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
