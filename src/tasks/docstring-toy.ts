/**
 * docstring-toy: Heimersheim & Janiak's docstring task on the zoo's word-level vocabulary
 * (data/toy.ts). A def with K arguments (option args, 3 or 4) and a docstring documenting the first
 * K − 1 in order; the next ":param" should name the K-th:
 *
 *   <bos> def load ( x , file , size ) : """ the new :param x : old list :param file : main user :param → size
 *
 * Function names from 8, arguments from 24 identifiers, description words from 12. Wrong answers are
 * the other K − 1 arguments of the def; metric (as ACDC's docstring): logit(answer) − the best wrong
 * argument's logit at the last position; correct when the top token is the answer. The corrupted prompt
 * replaces the def's K arguments by K other distinct arguments that do not occur in the clean prompt
 * (docstring unchanged), so the answer cannot be copied from the def. Options n, seed, bos, split, args.
 */
import { Rng } from '../util/rng.js';
import { DOCSTRING_TOY_ARGS, DOCSTRING_TOY_FUNCTIONS, DOCSTRING_TOY_WORDS, TOY_OPTIONS, ToyTemplate, type ToySplit, inToySplit, readToyOptions, toyIds, toyRenderer } from './data/toy.js';
import { type GeneratedTask, type TaskModel, buildTask } from './build.js';
import { logitDiffToBestWrong } from './metrics.js';
import type { TaskOptions } from './options.js';
import type { TaskGenerator } from './generator.js';
import { choose, drawPrompts, sampleDistinct } from './template.js';

export interface DocstringToyOptions {
  n?: number;
  seed?: number;
  bos?: boolean;
  split?: ToySplit;
  /** Arguments of the def, K (default 3; 3…4); the docstring documents the first K − 1. */
  args?: number;
}

const OPTIONS = {
  ...TOY_OPTIONS,
  args: 'number of def arguments K, 3 (default) or 4; the docstring documents the first K − 1 and the answer is the K-th',
};

/** The template for K arguments: [DEF] ×K, [DOC] ×(K−1), two [DESC] words, two [W] words per documented argument. */
export function docstringToyTemplate(k: number): string {
  const def = Array.from({ length: k }, () => '[DEF]').join(' , ');
  const doc = Array.from({ length: k - 1 }, () => ':param [DOC] : [W] [W]').join(' ');
  return `def [NAME] ( ${def} ) : """ [DESC] [DESC] ${doc} :param`;
}

export function makeDocstringToyTask(model: TaskModel, options: DocstringToyOptions = {}): GeneratedTask {
  const r = toyRenderer(model, 'docstring-toy');
  const [{ n, seed, bos, split }, o] = readToyOptions('docstring-toy', model, options as TaskOptions, OPTIONS);
  const k = o.int('args', 3, 3, 4);
  const template = new ToyTemplate(r, docstringToyTemplate(k), ['[NAME]', '[DEF]', '[DESC]', '[DOC]', '[W]']);
  const [argIds, functions, words] = [toyIds(r, DOCSTRING_TOY_ARGS), toyIds(r, DOCSTRING_TOY_FUNCTIONS), toyIds(r, DOCSTRING_TOY_WORDS)];
  const rng = new Rng(seed);

  const prompts = drawPrompts(n, 'docstring-toy', () => {
    const args = sampleDistinct(argIds, 2 * k, rng);
    const [cleanDef, corruptDef] = [args.slice(0, k), args.slice(k)];
    const documented = cleanDef.slice(0, k - 1);
    const fills = {
      '[NAME]': choose(functions, rng),
      '[DOC]': documented,
      '[DESC]': sampleDistinct(words, 2, rng),
      '[W]': documented.flatMap(() => sampleDistinct(words, 2, rng)),
    };
    const clean = template.fill({ ...fills, '[DEF]': cleanDef });
    if (!inToySplit(clean, split)) return null;
    return { clean, corrupt: template.fill({ ...fills, '[DEF]': corruptDef }), answer: cleanDef[k - 1]!, wrong: documented };
  });

  return buildTask(model, {
    name: 'docstring-toy',
    metricName: 'logit of the next argument − the best other def argument\'s logit at the last position',
    clean: prompts.map((p) => [...bos, ...p.clean]),
    corrupt: prompts.map((p) => [...bos, ...p.corrupt]),
    positions: prompts.map((p) => [bos.length + p.clean.length - 1]),
    answers: prompts.map((p) => [p.answer]),
    wrongAnswers: prompts.map((p) => p.wrong),
    texts: prompts.map((p) => r.tokenizer.decode(p.clean)),
    metric: logitDiffToBestWrong,
  });
}

export const docstringToyTask: TaskGenerator = {
  name: 'docstring-toy',
  description: 'toy docstring on the zoo\'s word-level vocabulary: "<bos> def load ( x , file , size ) : """ … :param x : … :param file : … :param" → "size"',
  options: OPTIONS,
  make: (model, options) => makeDocstringToyTask(model, options as DocstringToyOptions),
};
