/**
 * greater-than-toy: Hanna et al.'s greater-than on the zoo's word-level vocabulary (data/toy.ts):
 * "<bos> the war lasted from 32 to" → a number YY > 32, where "00"…"99" are 100 single tokens, XX is
 * drawn from 02…98 and the noun from 10. The corrupted prompt has XX = "01", so every continuation
 * but "00" and "01" is "greater". As greater-than.ts: answers are the tokens of all YY > XX, wrong
 * answers those of all YY ≤ XX; metric Σ p(YY > XX) − Σ p(YY ≤ XX) at the last position; correct when
 * the top token over the whole vocabulary is a greater number. Options n, seed, bos, split.
 */
import { Rng } from '../util/rng.js';
import { GT_TOY_NOUNS, GT_TOY_NUMBERS, GT_TOY_TEMPLATE, TOY_OPTIONS, ToyTemplate, type ToySplit, inToySplit, readToyOptions, toyIds, toyRenderer } from './data/toy.js';
import { type GeneratedTask, type TaskModel, buildTask } from './build.js';
import { probDiff } from './metrics.js';
import type { TaskOptions } from './options.js';
import type { TaskGenerator } from './generator.js';
import { choose, drawPrompts } from './template.js';

export interface GreaterThanToyOptions {
  n?: number;
  seed?: number;
  bos?: boolean;
  split?: ToySplit;
}

/** XX is drawn from 02…98 (so both answers and wrong answers are never empty besides "00", "01"). */
const XX_MIN = 2;
const XX_MAX = 98;

export function makeGreaterThanToyTask(model: TaskModel, options: GreaterThanToyOptions = {}): GeneratedTask {
  const r = toyRenderer(model, 'greater-than-toy');
  const [{ n, seed, bos, split }] = readToyOptions('greater-than-toy', model, options as TaskOptions, TOY_OPTIONS);
  const rng = new Rng(seed);
  const template = new ToyTemplate(r, GT_TOY_TEMPLATE, ['{noun}', '{XX}']);
  const numbers = toyIds(r, GT_TOY_NUMBERS); // ids of "00"…"99"
  const nouns = toyIds(r, GT_TOY_NOUNS);

  const prompts = drawPrompts(n, 'greater-than-toy', () => {
    const xx = XX_MIN + rng.int(XX_MAX - XX_MIN + 1);
    const noun = choose(nouns, rng);
    const clean = template.fill({ '{noun}': noun, '{XX}': numbers[xx]! });
    if (!inToySplit(clean, split)) return null;
    return { clean, corrupt: template.fill({ '{noun}': noun, '{XX}': numbers[1]! }), xx };
  });

  return buildTask(model, {
    name: 'greater-than-toy',
    metricName: 'probability difference Σ p(YY > XX) − Σ p(YY ≤ XX) over "00"…"99" at the last position',
    clean: prompts.map((p) => [...bos, ...p.clean]),
    corrupt: prompts.map((p) => [...bos, ...p.corrupt]),
    positions: prompts.map((p) => [bos.length + p.clean.length - 1]),
    answers: prompts.map((p) => numbers.slice(p.xx + 1)),
    wrongAnswers: prompts.map((p) => numbers.slice(0, p.xx + 1)),
    texts: prompts.map((p) => r.tokenizer.decode(p.clean)),
    metric: probDiff,
  });
}

export const greaterThanToyTask: TaskGenerator = {
  name: 'greater-than-toy',
  description: 'toy greater-than on the zoo\'s word-level vocabulary: "<bos> the war lasted from 32 to" → a number > 32',
  options: TOY_OPTIONS,
  make: (model, options) => makeGreaterThanToyTask(model, options as GreaterThanToyOptions),
};
