/**
 * SAELens folders: `cfg.json` (SAELens field names, see config.ts) and `sae_weights.safetensors`
 * (W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_in], b_dec; threshold for JumpReLU; b_dec_out for
 * transcoders). Both files are written atomically. Reading also accepts SAELens's own transcoder layout
 * (no b_dec_out: its b_dec is the output bias and the input is not centred) and JumpReLU training
 * checkpoints that store log_threshold.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CircuitscopeError } from '../../util/errors.js';
import { writeJsonAtomic } from '../../util/files.js';
import { type Tensor, loadTensors, saveTensors, zeros } from '../../tensor/index.js';
import { configFromJson, configToJson, outDim } from './config.js';
import { checkSae, paramShapes } from './sae.js';
import type { Sae, SaeParams } from './types.js';

export const SAE_CFG_FILE = 'cfg.json';
export const SAE_WEIGHTS_FILE = 'sae_weights.safetensors';

const DTYPE_NAMES = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** Saves an SAE as a SAELens folder (created if needed); weights in float32 unless `dtype` says otherwise. */
export function saveSae(folder: string, sae: Sae, opts: { dtype?: 'F32' | 'F16' | 'BF16' } = {}): void {
  checkSae(sae, folder);
  fs.mkdirSync(folder, { recursive: true });
  const dtype = opts.dtype ?? 'F32';
  const tensors: Record<string, Tensor> = {};
  for (const name of Object.keys(paramShapes(sae.cfg))) tensors[name] = sae.params[name as keyof SaeParams]!;
  saveTensors(path.join(folder, SAE_WEIGHTS_FILE), tensors, { dtype });
  const cfg = { ...sae.cfg, dtype: DTYPE_NAMES[dtype] };
  writeJsonAtomic(path.join(folder, SAE_CFG_FILE), configToJson(cfg));
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CircuitscopeError(`${file}: cannot read the SAE config`, `an SAE folder holds ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CircuitscopeError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Loads a SAELens folder; one clear error for a missing file or key, a wrong shape or an unknown architecture. */
export function loadSae(folder: string): Sae {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new CircuitscopeError(`${folder}: no such SAE folder`, `pass a folder holding ${SAE_CFG_FILE} and ${SAE_WEIGHTS_FILE} (e.g. the --out of train-sae)`);
  }
  const cfgFile = path.join(folder, SAE_CFG_FILE);
  const cfg = configFromJson(readJson(cfgFile), cfgFile);
  const weights = path.join(folder, SAE_WEIGHTS_FILE);
  if (!fs.existsSync(weights)) throw new CircuitscopeError(`${weights}: missing`, `an SAE folder holds ${SAE_WEIGHTS_FILE} next to ${SAE_CFG_FILE}`);
  const shapes = paramShapes(cfg); // throws on an unknown architecture
  const { floats } = loadTensors(weights);
  if (cfg.architecture === 'jumprelu' && !floats.has('threshold') && floats.has('log_threshold')) {
    const lt = floats.get('log_threshold')!;
    floats.set('threshold', lt.clone());
    floats.get('threshold')!.data.forEach((v, i, a) => (a[i] = Math.exp(v)));
  }
  if (cfg.architecture === 'transcoder' && !floats.has('b_dec_out')) {
    // SAELens's transcoder: b_dec [d_out] is the output bias and the input is used as is.
    const b = floats.get('b_dec');
    if (b && b.shape.length === 1 && b.shape[0] === outDim(cfg)) {
      floats.set('b_dec_out', b);
      floats.set('b_dec', zeros([cfg.d_in]));
      cfg.apply_b_dec_to_input = false;
    }
  }
  const params: Record<string, Tensor> = {};
  for (const name of Object.keys(shapes)) {
    const t = floats.get(name);
    if (!t) {
      throw new CircuitscopeError(`${weights}: no tensor "${name}" (a ${cfg.architecture} SAE needs it)`, `the file has ${[...floats.keys()].join(', ') || 'no float tensors'}`);
    }
    params[name] = t;
  }
  const sae: Sae = { cfg, params: params as unknown as SaeParams };
  checkSae(sae, weights);
  return sae;
}
