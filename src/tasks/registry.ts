/** The task generators by name, and makeTask: a registered name, or a JSON task file. */
import fs from 'node:fs';
import { CircuitscopeError } from '../util/errors.js';
import type { TaskModel } from './build.js';
import type { TaskGenerator } from './generator.js';
import type { TaskOptions } from './options.js';
import type { Task } from './task.js';
import { ioiTask } from './ioi.js';
import { inductionTask } from './induction.js';
import { sortTask } from './sort.js';
import { greaterThanTask } from './greater-than.js';
import { docstringTask } from './docstring.js';
import { ioiToyTask } from './ioi-toy.js';
import { greaterThanToyTask } from './greater-than-toy.js';
import { docstringToyTask } from './docstring-toy.js';
import { loadTaskFile } from './custom.js';

export const TASKS: ReadonlyMap<string, TaskGenerator> = new Map(
  [ioiTask, greaterThanTask, docstringTask, inductionTask, sortTask, ioiToyTask, greaterThanToyTask, docstringToyTask].map((g) => [g.name, g]),
);

export function taskNames(): string[] {
  return [...TASKS.keys()];
}

export function taskGenerator(name: string): TaskGenerator {
  const g = TASKS.get(name);
  if (!g) throw new CircuitscopeError(`unknown task "${name}"`, `use one of ${taskNames().join(', ')}`);
  return g;
}

/**
 * The task `name` on `model` (its tokenizer, vocabulary and context), with options such as
 * { n: 50, seed: 0 } plus the generator's own (see each generator's `options`). A name that is not
 * registered but ends in .json (or is an existing file) is read as a task file (custom.ts).
 */
export function makeTask(name: string, model: TaskModel, options: TaskOptions = {}): Task {
  const g = TASKS.get(name);
  if (g) return g.make(model, options);
  if (/\.json$/i.test(name) || fs.existsSync(name)) return loadTaskFile(name, model, options);
  throw new CircuitscopeError(`unknown task "${name}"`, `use one of ${taskNames().join(', ')}, or the path of a JSON task file`);
}
