/**
 * Training batches from a task generator: the batch of step s is the task's clean prompts drawn with
 * seed (train seed, s) and the recipe's options ([lo, hi] options drawn per step). Every scored
 * position is a training target: tasks with one answer per scored position (induction, docstring)
 * train on each; tasks with a set of right answers at one position (greater-than's YY > XX) train on
 * one of them drawn uniformly, so the model learns the whole set.
 */
import { IntTensor } from '../tensor/index.js';
import type { LmBatch } from '../model/index.js';
import { type Task, type TaskModel, type TaskOptions, makeTask } from '../tasks/index.js';
import { CircuitscopeError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { StreamOption } from './recipe.js';

/** A per-step seed that never collides with small evaluation seeds (0, 1, 2, …). */
export function stepSeed(seed: number, step: number): number {
  return (((seed + 1) * 0x9e3779b1) ^ (step * 0x85ebca77) ^ 0x40000000) >>> 0;
}

/** The options of one step: fixed values as given, [lo, hi] ranges drawn with `rng`. */
export function drawOptions(options: Readonly<Record<string, StreamOption>>, rng: Rng): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) out[k] = Array.isArray(v) ? v[0] + rng.int(v[1] - v[0] + 1) : v;
  return out;
}

/** Targets of a task's prompts: every scored position, its answer (or one of its answers). */
export function taskBatch(task: Task, rng: Rng): LmBatch {
  const [n, pos] = task.clean.shape as [number, number];
  const rows: number[] = [];
  const targets: number[] = [];
  for (let i = 0; i < n; i++) {
    const ps = task.positions[i]!;
    const ans = task.answers[i]!;
    if (ps.length !== ans.length && ps.length !== 1) {
      throw new CircuitscopeError(`task ${task.name}: prompt ${i} has ${ps.length} scored positions and ${ans.length} answers`, 'a training stream needs one answer per position, or a set of answers at one position');
    }
    ps.forEach((p, j) => {
      rows.push(i * pos + p);
      targets.push(ps.length === ans.length ? ans[j]! : ans[rng.int(ans.length)]!);
    });
  }
  return { tokens: task.clean, rows: Int32Array.from(rows), targets: new IntTensor(Int32Array.from(targets), [targets.length]) };
}

/** batchAt(s) for the trainer: a pure function of (seed, s). */
export function streamFor(model: TaskModel, taskName: string, opts: { seed: number; batch: number; taskOptions: Readonly<Record<string, StreamOption>> }): (step: number) => LmBatch {
  return (step) => {
    const rng = new Rng(stepSeed(opts.seed, step));
    const options: TaskOptions = { ...drawOptions(opts.taskOptions, rng), n: opts.batch, seed: rng.nextU32() };
    return taskBatch(makeTask(taskName, model, options), rng);
  };
}
