/**
 * The toy tasks' word lists and the complete vocabulary of each toy model of the zoo (one
 * whitespace-separated word per token, "<bos>" at id 0, every word the task can emit exactly once),
 * plus what the three toy generators share: which tokenizer they accept (toyRenderer), their common
 * options (n, seed, bos, split), templates filled by id (ToyTemplate), and the fixed train/test split.
 *
 * Split rule: a prompt is in the test split iff FNV-1a (32-bit) over its clean token ids WITHOUT the
 * BOS prefix, each id fed as 4 little-endian bytes, is ≡ 0 mod 10 — about 10% of the prompts. It
 * depends only on the clean prompt, so a prompt never changes split with the seed, n, the bos option
 * or its corruption; the zoo trains on split 'train' and measures accuracy on split 'test'.
 */
import { CircuitscopeError } from '../../util/errors.js';
import type { TaskModel } from '../build.js';
import { COMMON_OPTIONS, OptionReader, type TaskOptions } from '../options.js';
import { Renderer, bosPrefix, fillTemplate } from '../template.js';

export type ToyTaskName = 'ioi-toy' | 'greater-than-toy' | 'docstring-toy';
export type ToySplit = 'train' | 'test' | 'all';
export const TOY_SPLITS: readonly ToySplit[] = ['train', 'test', 'all'];
export const TOY_BOS = '<bos>';

// ioi-toy: 4 templates of 14 words; names at word 1, 3 and 9, the answer after the last word.
// [N1] [N2]: the first two names (ABBA: IO S, BABA: S IO); [S]: the subject's second mention.
export const IOI_TOY_TEMPLATES: readonly string[] = [
  'when [N1] and [N2] went to the [PLACE] , [S] gave a [OBJECT] to',
  'then [N1] and [N2] were at the [PLACE] . [S] handed a [OBJECT] to',
  'after [N1] and [N2] walked into the [PLACE] , [S] passed the [OBJECT] to',
  'while [N1] and [N2] sat in the [PLACE] , [S] threw a [OBJECT] to',
];
export const IOI_TOY_NAMES: readonly string[] = [
  'mary', 'john', 'alice', 'bob', 'tom', 'anna', 'kate', 'paul', 'lisa', 'mark', 'emma', 'jack', 'sara', 'dave', 'lucy', 'mike',
];
export const IOI_TOY_PLACES: readonly string[] = ['store', 'park', 'school', 'beach', 'market', 'garden', 'office', 'station'];
export const IOI_TOY_OBJECTS: readonly string[] = ['drink', 'book', 'ball', 'key', 'letter', 'ring', 'bag', 'snack'];

// greater-than-toy: "the NOUN lasted from XX to" → YY > XX over the 100 tokens "00"…"99".
export const GT_TOY_TEMPLATE = 'the {noun} lasted from {XX} to';
export const GT_TOY_NOUNS: readonly string[] = ['war', 'trip', 'drought', 'strike', 'flood', 'famine', 'siege', 'voyage', 'reign', 'festival'];
export const GT_TOY_NUMBERS: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

// docstring-toy: def NAME ( A , B , C ) : """ D D :param A : W W :param B : W W :param → C.
export const DOCSTRING_TOY_SYMBOLS: readonly string[] = ['def', '(', ',', ')', ':', '"""', ':param'];
export const DOCSTRING_TOY_ARGS: readonly string[] = [
  'x', 'y', 'z', 'a', 'b', 'n', 'i', 'j', 'k', 'file', 'size', 'path', 'name', 'data', 'key', 'value', 'mode', 'count', 'text', 'line', 'item', 'node', 'root', 'port',
];
export const DOCSTRING_TOY_FUNCTIONS: readonly string[] = ['load', 'save', 'run', 'parse', 'read', 'write', 'build', 'check'];
export const DOCSTRING_TOY_WORDS: readonly string[] = ['the', 'new', 'old', 'first', 'last', 'main', 'user', 'input', 'output', 'list', 'number', 'current'];

/** The words of templates without their [slots] / {slots}, first occurrence order. */
function literalWords(templates: readonly string[]): string[] {
  return templates.flatMap((t) => t.split(' ')).filter((w) => !/^[[{].*[\]}]$/.test(w));
}

/** "<bos>", the literal words (deduplicated), then the slot word lists, which must all be new words. */
function vocabulary(literals: readonly string[], ...lists: (readonly string[])[]): readonly string[] {
  const words = [...new Set([TOY_BOS, ...literals])];
  for (const w of lists.flat()) {
    if (words.includes(w)) throw new CircuitscopeError(`toy vocabulary: the slot word ${JSON.stringify(w)} occurs twice`);
    words.push(w);
  }
  return Object.freeze(words);
}

/** The complete vocabulary of each toy model ("<bos>" = id 0); sizes 54, 115 and 52. */
export const TOY_VOCABS: Readonly<Record<ToyTaskName, readonly string[]>> = Object.freeze({
  'ioi-toy': vocabulary(literalWords(IOI_TOY_TEMPLATES), IOI_TOY_NAMES, IOI_TOY_PLACES, IOI_TOY_OBJECTS),
  'greater-than-toy': vocabulary(literalWords([GT_TOY_TEMPLATE]), GT_TOY_NOUNS, GT_TOY_NUMBERS),
  'docstring-toy': vocabulary(DOCSTRING_TOY_SYMBOLS, DOCSTRING_TOY_FUNCTIONS, DOCSTRING_TOY_ARGS, DOCSTRING_TOY_WORDS),
});

/** FNV-1a (32-bit) over ids as 4 little-endian bytes each. */
export function fnv1a(ids: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const id of ids) {
    for (let b = 0; b < 32; b += 8) {
      h ^= (id >>> b) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h;
}

/** The split a prompt belongs to, from its clean ids without BOS (see the file comment). */
export function toySplitOf(cleanIdsWithoutBos: readonly number[]): 'train' | 'test' {
  return fnv1a(cleanIdsWithoutBos) % 10 === 0 ? 'test' : 'train';
}

/** Whether a prompt (clean ids without BOS) belongs to `split` ('all' takes every prompt). */
export function inToySplit(cleanIdsWithoutBos: readonly number[], split: ToySplit): boolean {
  return split === 'all' || toySplitOf(cleanIdsWithoutBos) === split;
}

/** The options of every toy task (the generator adds its own). */
export const TOY_OPTIONS: Readonly<Record<string, string>> = {
  ...COMMON_OPTIONS,
  n: 'number of prompt pairs (default 40)',
  bos: 'prepend the BOS token "<bos>" (default true)',
  split: 'train | test | all (default): the held-out test split is the prompts whose FNV-1a hash of clean ids is ≡ 0 mod 10',
};

export interface ToyCommon {
  n: number;
  seed: number;
  /** [bos id] or []. */
  bos: number[];
  split: ToySplit;
}

/** Reads n, seed, bos and split (and checks that no unknown option is given) → the reader for the rest. */
export function readToyOptions(task: ToyTaskName, model: TaskModel, options: TaskOptions, known: Readonly<Record<string, string>>): [ToyCommon, OptionReader] {
  const o = new OptionReader(task, options, known);
  const common = {
    n: o.int('n', 40),
    seed: o.int('seed', 0, 0),
    bos: bosPrefix(model, task, o.bool('bos', true)),
    split: o.choice<ToySplit>('split', 'all', TOY_SPLITS),
  };
  return [common, o];
}

/**
 * A toy template rendered once (every slot filled with "<bos>") to learn its ids and slot positions;
 * a prompt is then those ids with the slots overwritten by the words' ids. Exact for a word-level
 * tokenizer (each word one token, no context effects) and ~10× faster than rendering each draw,
 * which matters because the test split rejects 9 draws in 10 and the zoo asks every training step.
 */
export class ToyTemplate {
  private readonly ids: readonly number[];
  private readonly slots: ReadonlyMap<string, readonly number[]>;

  constructor(r: Renderer, readonly template: string, slots: readonly string[]) {
    const rendered = r.render(fillTemplate(template, Object.fromEntries(slots.map((k) => [k, TOY_BOS]))));
    if (!rendered) throw new CircuitscopeError(`toy template ${JSON.stringify(template)} does not render to one token per word`);
    for (const k of slots) if (!rendered.slots.has(k)) throw new CircuitscopeError(`toy template ${JSON.stringify(template)} has no slot ${k}`);
    this.ids = rendered.ids;
    this.slots = rendered.slots;
  }

  /** The prompt's ids: slot k's i-th occurrence takes ids[k][i] (the last repeats), or ids[k] when one id. */
  fill(ids: Readonly<Record<string, number | readonly number[]>>): number[] {
    const out = [...this.ids];
    for (const [k, at] of this.slots) {
      const v = ids[k];
      if (v === undefined) throw new CircuitscopeError(`toy template ${JSON.stringify(this.template)}: no word for slot ${k}`);
      at.forEach((p, i) => {
        out[p] = typeof v === 'number' ? v : v[Math.min(i, v.length - 1)]!;
      });
    }
    return out;
  }
}

/** The ids of `words` (each one token: toyRenderer checked the task's whole vocabulary). */
export function toyIds(r: Renderer, words: readonly string[]): number[] {
  return words.map((w) => r.single(w)!);
}

const renderers = new WeakMap<object, Map<ToyTaskName, Renderer>>();

/**
 * The renderer of a toy task on `model`: its tokenizer must be word-level and hold every word of the
 * task's vocabulary as one token (the zoo's toy models do). Cached per tokenizer, so a training loop
 * that asks for prompts every step checks the words once.
 */
export function toyRenderer(model: TaskModel, task: ToyTaskName): Renderer {
  const tok = model.tokenizer;
  const hint = `the toy tasks need the zoo's word-level tokenizer: use the zoo's toy model (e.g. --model ${task})`;
  if (!tok || tok.kind !== 'word-level') {
    throw new CircuitscopeError(`${task}: ${model.cfg.name} has ${tok ? `a tokenizer of kind ${tok.kind}` : 'no tokenizer'}, not a word-level one`, hint);
  }
  const cached = renderers.get(tok)?.get(task);
  if (cached) return cached;
  const r = new Renderer(tok);
  const missing = TOY_VOCABS[task].filter((w) => {
    try {
      return r.single(w) === null;
    } catch (e) {
      if (e instanceof CircuitscopeError) return true;
      throw e;
    }
  });
  if (missing.length > 0) {
    throw new CircuitscopeError(`${task}: ${model.cfg.name}'s word-level vocabulary lacks ${missing.length} of the task's words (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`, hint);
  }
  if (!renderers.has(tok)) renderers.set(tok, new Map());
  renderers.get(tok)!.set(task, r);
  return r;
}
