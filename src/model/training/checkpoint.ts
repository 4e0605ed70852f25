/**
 * Language-model training checkpoints: `checkpoint.safetensors` in the output folder, written
 * atomically, holding every parameter ("param.<checkpoint name>"), both AdamW groups' moments
 * ("adam<g>.m.<i>", "adam<g>.v.<i>") and, as JSON metadata, the next step, the optimisers' step counts
 * and the settings that shape the trajectory (a resume with other settings is refused).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Adam, Tensor, loadTensors, saveTensors } from '../../tensor/index.js';
import { CircuitscopeError } from '../../util/errors.js';

export const LM_CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'circuitscope-lm-checkpoint';

export interface LmCheckpointMeta {
  /** The next step to run. */
  step: number;
  settings: Record<string, unknown>;
}

export function hasLmCheckpoint(folder: string): boolean {
  return fs.existsSync(path.join(folder, LM_CHECKPOINT_FILE));
}

export function writeLmCheckpoint(folder: string, params: readonly [string, Tensor][], opts: readonly Adam[], meta: LmCheckpointMeta): void {
  fs.mkdirSync(folder, { recursive: true });
  const out = new Map<string, Tensor>();
  for (const [name, t] of params) out.set(`param.${name}`, t.detach());
  opts.forEach((o, g) => {
    const st = o.state();
    st.m.forEach((a, i) => out.set(`adam${g}.m.${i}`, new Tensor(a, [a.length])));
    st.v.forEach((a, i) => out.set(`adam${g}.v.${i}`, new Tensor(a, [a.length])));
  });
  const info = { format: FORMAT, version: 1, step: meta.step, adamSteps: opts.map((o) => o.stepCount), settings: meta.settings };
  saveTensors(path.join(folder, LM_CHECKPOINT_FILE), out, { metadata: { circuitscope: JSON.stringify(info) } });
}

/** Restores parameters and optimisers in place from `folder`'s checkpoint; returns its metadata. */
export function readLmCheckpoint(folder: string, params: readonly [string, Tensor][], opts: readonly Adam[], settings: Record<string, unknown>): LmCheckpointMeta {
  const file = path.join(folder, LM_CHECKPOINT_FILE);
  const { floats, metadata } = loadTensors(file);
  let info: Record<string, unknown> | null = null;
  try {
    info = JSON.parse(metadata?.circuitscope ?? 'null') as Record<string, unknown> | null;
  } catch {
    info = null;
  }
  if (!info || info.format !== FORMAT) throw new CircuitscopeError(`${file}: not a circuitscope training checkpoint`, 'delete it or train into another folder');
  const saved = (info.settings ?? {}) as Record<string, unknown>;
  const diff = Object.keys({ ...saved, ...settings }).filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(settings[k]));
  if (diff.length) {
    throw new CircuitscopeError(`${file}: the checkpoint was trained with other settings (${diff.join(', ')})`, 'resume with the same recipe, or delete the checkpoint to start again');
  }
  const take = (name: string, size: number): Float32Array => {
    const t = floats.get(name);
    if (!t || t.size !== size) throw new CircuitscopeError(`${file}: "${name}" is missing or has the wrong size`, 'the checkpoint is damaged or from another model; delete it to start again');
    return t.data;
  };
  for (const [name, t] of params) t.data.set(take(`param.${name}`, t.size));
  const steps = info.adamSteps as number[];
  opts.forEach((o, g) => {
    const st = o.state();
    o.loadState({ step: steps[g]!, m: st.m.map((a, i) => take(`adam${g}.m.${i}`, a.length)), v: st.v.map((a, i) => take(`adam${g}.v.${i}`, a.length)) });
  });
  return { step: Number(info.step), settings: saved };
}
