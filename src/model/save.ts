/**
 * Writes a model as a Hugging Face folder: `config.json` (the family's own keys) and `model.safetensors`
 * (checkpoint names, float32), plus optional extra files such as `tokenizer.json`. Every file is written
 * to a temporary name and renamed, so an interrupted save never leaves a half-written file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { saveTensors } from '../tensor/index.js';
import { CircuitscopeError } from '../util/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/files.js';
import type { ModelConfig } from './config.js';
import { type Params, familyByName } from './families/index.js';

/** Saves `params` of `cfg` into `folder` (created if needed); `files` maps extra file names to their text. */
export function saveModelFolder(folder: string, cfg: ModelConfig, params: Params, files: Record<string, string> = {}): void {
  const family = familyByName(cfg.family);
  if (!family.configJson) throw new CircuitscopeError(`saving ${cfg.family} models is not supported`, 'only GPT-2-family models can be saved as Hugging Face folders');
  fs.mkdirSync(folder, { recursive: true });
  const ordered = new Map([...family.paramShapes(cfg).keys()].map((name) => [name, params.get(name)!.detach()]));
  saveTensors(path.join(folder, 'model.safetensors'), ordered, { metadata: { format: 'pt' } });
  writeJsonAtomic(path.join(folder, 'config.json'), family.configJson(cfg));
  for (const [name, text] of Object.entries(files)) writeFileAtomic(path.join(folder, name), text);
}
