/**
 * ioi-toy: indirect object identification on the zoo's word-level vocabulary (data/toy.ts), in the
 * style of Wang et al. 2022: "<bos> when mary and john went to the store , john gave a drink to" →
 * "mary". Four templates of the same 14 words (names at words 1, 3 and 9), 16 names, 8 places and 8
 * objects; ABBA ("mary and john … john") and BABA ("john and mary … john") orders. The corrupted
 * prompt is ABC-style: the same template, place and object with the three name slots filled by three
 * other distinct names, so which name is the IO is gone. Metric: logit(IO) − logit(S) at the last
 * position; correct when the top token there is the IO. Options n, seed, bos, split as every toy task.
 */
import { Rng } from '../util/rng.js';
import { IOI_TOY_NAMES, IOI_TOY_OBJECTS, IOI_TOY_PLACES, IOI_TOY_TEMPLATES, TOY_OPTIONS, ToyTemplate, type ToySplit, inToySplit, readToyOptions, toyIds, toyRenderer } from './data/toy.js';
import { type GeneratedTask, type TaskModel, buildTask } from './build.js';
import { logitDiff } from './metrics.js';
import type { TaskOptions } from './options.js';
import type { TaskGenerator } from './generator.js';
import { choose, drawPrompts, sampleDistinct } from './template.js';

export type IoiToyOrder = 'abba' | 'baba' | 'mixed';

export interface IoiToyOptions {
  n?: number;
  seed?: number;
  bos?: boolean;
  split?: ToySplit;
  /** abba: "IO and S … S", baba: "S and IO … S", mixed (default): each prompt either, uniformly. */
  order?: IoiToyOrder;
}

const OPTIONS = {
  ...TOY_OPTIONS,
  order: 'abba | baba | mixed (default): the order of the first two names',
};

export function makeIoiToyTask(model: TaskModel, options: IoiToyOptions = {}): GeneratedTask {
  const r = toyRenderer(model, 'ioi-toy');
  const [{ n, seed, bos, split }, o] = readToyOptions('ioi-toy', model, options as TaskOptions, OPTIONS);
  const order = o.choice<IoiToyOrder>('order', 'mixed', ['abba', 'baba', 'mixed']);
  const rng = new Rng(seed);
  const templates = IOI_TOY_TEMPLATES.map((t) => new ToyTemplate(r, t, ['[N1]', '[N2]', '[S]', '[PLACE]', '[OBJECT]']));
  const [names, places, objects] = [toyIds(r, IOI_TOY_NAMES), toyIds(r, IOI_TOY_PLACES), toyIds(r, IOI_TOY_OBJECTS)];

  const prompts = drawPrompts(n, 'ioi-toy', () => {
    const template = choose(templates, rng);
    const [io, s] = sampleDistinct(names, 2, rng) as [number, number];
    const abba = order === 'abba' || (order === 'mixed' && rng.int(2) === 0);
    const nouns = { '[PLACE]': choose(places, rng), '[OBJECT]': choose(objects, rng) };
    const clean = template.fill({ ...nouns, '[N1]': abba ? io : s, '[N2]': abba ? s : io, '[S]': s });
    if (!inToySplit(clean, split)) return null;
    const [x, y, z] = sampleDistinct(names.filter((w) => w !== io && w !== s), 3, rng) as [number, number, number];
    const corrupt = template.fill({ ...nouns, '[N1]': x, '[N2]': y, '[S]': z });
    return { clean, corrupt, io, s };
  });

  return buildTask(model, {
    name: 'ioi-toy',
    metricName: 'logit diff IO − S at the last position',
    clean: prompts.map((p) => [...bos, ...p.clean]),
    corrupt: prompts.map((p) => [...bos, ...p.corrupt]),
    positions: prompts.map((p) => [bos.length + p.clean.length - 1]),
    answers: prompts.map((p) => [p.io]),
    wrongAnswers: prompts.map((p) => [p.s]),
    texts: prompts.map((p) => r.tokenizer.decode(p.clean)),
    metric: logitDiff,
  });
}

export const ioiToyTask: TaskGenerator = {
  name: 'ioi-toy',
  description: 'toy IOI on the zoo\'s word-level vocabulary: "<bos> when mary and john went to the store , john gave a drink to" → "mary"',
  options: OPTIONS,
  make: (model, options) => makeIoiToyTask(model, options as IoiToyOptions),
};
