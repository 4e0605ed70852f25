/**
 * Zoo models as files: the bundled folders under `models/zoo/<name>/` (config.json, model.safetensors,
 * tokenizer.json for word-level vocabularies, recipe.json, circuit.json, README.md), the registry of
 * recipes by name, and building a fresh (seeded, untrained) model from a recipe.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HookedTransformer, RawConfig, type Tokenizer, familyByName, initParams, integerTokenizer, sinusoidalPositions } from '../model/index.js';
import { wordLevelTokenizer, wordLevelTokenizerJson } from '../model/tokenizers/word-level.js';
import { TOY_VOCABS } from '../tasks/data/toy.js';
import { CircuitscopeError } from '../util/errors.js';
import { readJsonFile } from '../util/files.js';
import { packageRoot } from '../util/package.js';
import { Rng } from '../util/rng.js';
import { type ZooRecipe, checkRecipe } from './recipe.js';
import { RECIPES } from './recipes.js';

export const ZOO_RECIPES: ReadonlyMap<string, ZooRecipe> = new Map(RECIPES.map((r) => [r.name, r]));

/** The model `discover` runs on when given no arguments. */
export const DEFAULT_ZOO_MODEL = 'induction-2l';

export function zooNames(): string[] {
  return [...ZOO_RECIPES.keys()];
}

export function recipeByName(name: string): ZooRecipe {
  const r = ZOO_RECIPES.get(name);
  if (!r) throw new CircuitscopeError(`unknown zoo model "${name}"`, `the zoo has ${zooNames().join(', ')}`);
  return r;
}

/** models/zoo inside the installed package. */
export function zooDir(): string {
  return path.join(packageRoot(), 'models', 'zoo');
}

export function zooFolder(name: string): string {
  return path.join(zooDir(), name);
}

/** A zoo name (that is not also a local path) → its bundled folder; anything else unchanged. */
export function resolveZooModel(idOrFolder: string): string {
  if (ZOO_RECIPES.has(idOrFolder) && !fs.existsSync(idOrFolder)) return zooFolder(idOrFolder);
  return idOrFolder;
}

/** The recipe saved next to a zoo model's weights (or the registered one for a bundled name). */
export function readRecipe(folder: string): ZooRecipe {
  const file = path.join(folder, 'recipe.json');
  if (!fs.existsSync(file)) throw new CircuitscopeError(`${folder}: no recipe.json`, 'zoo models are folders written by `circuitscope zoo train`');
  return checkRecipe(readJsonFile(file, 'zoo recipe'), file);
}

/** The recipe's vocabulary: word list for word-level tokenizers, null for integer ids. */
function vocabOf(recipe: ZooRecipe): readonly string[] | null {
  if (recipe.tokenizer.type === 'integer') return null;
  const v = TOY_VOCABS[recipe.tokenizer.vocab as keyof typeof TOY_VOCABS];
  if (!v) throw new CircuitscopeError(`recipe ${recipe.name}: unknown vocabulary "${recipe.tokenizer.vocab}"`, `known: ${Object.keys(TOY_VOCABS).join(', ')}`);
  return v;
}

/** The config.json of the recipe's model (vocab_size follows a word-level vocabulary). */
export function zooConfigJson(recipe: ZooRecipe): Record<string, unknown> {
  const vocab = vocabOf(recipe);
  return vocab ? { ...recipe.config, vocab_size: vocab.length } : recipe.config;
}

export function zooTokenizer(recipe: ZooRecipe, vocabSize: number): Tokenizer {
  const vocab = vocabOf(recipe);
  return vocab ? wordLevelTokenizer(vocab, { bosTokenId: 0 }) : integerTokenizer(vocabSize, 0);
}

/** Extra files of the model folder: tokenizer.json for word-level vocabularies. */
export function tokenizerFiles(recipe: ZooRecipe): Record<string, string> {
  const vocab = vocabOf(recipe);
  return vocab ? { 'tokenizer.json': wordLevelTokenizerJson(vocab, { bos: vocab[0]! }) } : {};
}

/** The recipe's model with fresh parameters drawn from its training seed. */
export function freshZooModel(recipe: ZooRecipe): HookedTransformer {
  const family = familyByName('gpt2');
  const cfg = family.config(new RawConfig(zooConfigJson(recipe), `recipe ${recipe.name}`), recipe.name);
  const params = initParams(cfg, new Rng(recipe.train.seed));
  if (recipe.init?.positions === 'sinusoidal') params.set('wpe.weight', sinusoidalPositions(cfg.nCtx, cfg.dModel, recipe.init.amplitude, recipe.init.base));
  return new HookedTransformer(cfg, params, zooTokenizer(recipe, cfg.dVocab));
}

/** A zoo model by name (bundled) or folder, with its recipe. */
export async function loadZooModel(nameOrFolder: string): Promise<{ model: HookedTransformer; recipe: ZooRecipe; folder: string }> {
  const folder = resolveZooModel(nameOrFolder);
  if (!fs.existsSync(path.join(folder, 'config.json'))) {
    throw new CircuitscopeError(`zoo model ${nameOrFolder} is not trained yet (${folder} has no config.json)`, `run: circuitscope zoo train ${path.basename(folder)}`);
  }
  const recipe = readRecipe(folder);
  const model = await HookedTransformer.load(folder, { offline: true, quiet: true });
  return { model, recipe, folder };
}
