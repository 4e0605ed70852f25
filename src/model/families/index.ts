/** The family registry, keyed by Hugging Face `model_type`. */
import { CircuitscopeError } from '../../util/errors.js';
import type { Family } from './family.js';
import { gpt2 } from './gpt2.js';
import { llama } from './llama.js';

const FAMILIES: readonly Family[] = [gpt2, llama];

export function familyFor(modelType: string, source: string): Family {
  const f = FAMILIES.find((x) => x.modelTypes.includes(modelType));
  if (!f) {
    const known = FAMILIES.flatMap((x) => x.modelTypes).join(', ');
    throw new CircuitscopeError(`${source}: model_type "${modelType}" is not supported`, `supported model types: ${known}`);
  }
  return f;
}

export function familyByName(name: string): Family {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new CircuitscopeError(`unknown model family "${name}"`, `known families: ${FAMILIES.map((x) => x.name).join(', ')}`);
  return f;
}

export type { Family, Params } from './family.js';
export { loadParams } from './family.js';
