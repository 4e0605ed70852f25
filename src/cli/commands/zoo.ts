/**
 * `circuitscope zoo list | train <name> | verify <name>`: the bundled models with known circuits.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { progress } from '../../util/progress.js';
import { type AttentionCheck, type ZooResults, buildZooModel, readZooCircuit, loadZooModel, readRecipe, recipeByName, resolveZooModel, verifyZooModel, zooFolder, zooNames } from '../../zoo/index.js';
import { action, positiveInt, printJson } from '../run.js';

interface ListRow {
  name: string;
  task: string;
  architecture: string;
  parameters: number | null;
  kib: number | null;
  accuracy: number | null;
  heads: string[];
  mlps: number[];
  edges: number | null;
  train_s: number | null;
}

function listRow(name: string): ListRow {
  const r = recipeByName(name);
  const folder = zooFolder(name);
  const c = r.config;
  const row: ListRow = { name, task: r.task, architecture: `${String(c.n_layer)}L×${String(c.n_head)}H d${String(c.n_embd)}${c.attn_only ? ' attn-only' : ''}`, parameters: null, kib: null, accuracy: null, heads: [], mlps: [], edges: null, train_s: null };
  if (!fs.existsSync(path.join(folder, 'recipe.json')) || !fs.existsSync(path.join(folder, 'circuit.json'))) return row;
  const saved = readRecipe(folder) as ReturnType<typeof readRecipe> & Partial<ZooResults>;
  const circuit = readZooCircuit(folder);
  return {
    ...row,
    parameters: saved.trained?.parameters ?? null,
    kib: saved.trained ? Math.round(saved.trained.bytes / 1024) : null,
    accuracy: saved.accuracy ?? null,
    heads: circuit.heads,
    mlps: circuit.mlps,
    edges: circuit.edges?.length ?? null,
    train_s: saved.trained?.seconds ?? null,
  };
}

/** "1 head", "2 heads". */
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

function printList(rows: ListRow[]): void {
  const head = ['name', 'task', 'architecture', 'params', 'KiB', 'accuracy', 'circuit', 'train s'];
  const body = rows.map((r) => [
    r.name,
    r.task,
    r.architecture,
    r.parameters === null ? '-' : String(r.parameters),
    r.kib === null ? '-' : String(r.kib),
    r.accuracy === null ? 'not trained' : `${(100 * r.accuracy).toFixed(1)}%`,
    r.accuracy === null ? '-' : `${count(r.heads.length, 'head')}${r.mlps.length ? ` + ${count(r.mlps.length, 'MLP')}` : ''}${r.edges !== null ? `, ${count(r.edges, 'edge')}` : ''}`,
    r.train_s === null ? '-' : String(r.train_s),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  for (const line of [head, ...body]) process.stdout.write(`${line.map((x, i) => x.padEnd(w[i]!)).join('  ').trimEnd()}\n`);
}

function barFor(label: string, quiet: boolean): (done: number, total: number) => void {
  let bar: ReturnType<typeof progress> | null = null;
  let last = 0;
  return (done, total) => {
    bar ??= progress(label, total, { quiet });
    bar.tick(done - last);
    last = done;
    if (done >= total) bar.stop();
  };
}

export function registerZoo(program: Command): void {
  const zoo = program.command('zoo').description('the offline model zoo: small models trained by circuitscope, with verified circuits');
  zoo
    .command('list')
    .description('the zoo models, their held-out accuracy and circuit size')
    .option('--json', 'print JSON')
    .action(
      action((opts: { json?: boolean }) => {
        const rows = zooNames().map(listRow);
        if (opts.json) printJson(rows);
        else printList(rows);
      }),
    );
  zoo
    .command('train <name>')
    .description('train a zoo model from its recipe, measure its accuracy and verify its circuit')
    .option('--out <folder>', 'where to write the model folder (default: the bundled models/zoo/<name>)')
    .option('--resume', 'continue an interrupted run from its checkpoint')
    .option('--steps <k>', 'train this many steps instead of the recipe\'s (quick experiments)', positiveInt('--steps'))
    .option('--json', 'print the results as JSON')
    .action(
      action((name: string, opts: { out?: string; resume?: boolean; steps?: number; json?: boolean }) => {
        const recipe = recipeByName(name);
        const folder = opts.out ?? zooFolder(name);
        const log = (s: string): void => void (opts.json || process.stderr.write(`${s}\n`));
        const res = buildZooModel(recipe, folder, { quiet: !!opts.json, resume: !!opts.resume, ...(opts.steps && { steps: opts.steps }), onStage: log, onProgress: barFor('patching', !!opts.json) });
        if (opts.json) return printJson({ name, folder, ...res });
        const c = res.circuit;
        process.stdout.write(`${name}: trained ${res.trained.steps} steps in ${res.trained.seconds} s (${res.trained.parameters} parameters, ${res.trained.bytes} bytes)\n`);
        process.stdout.write(`held-out accuracy ${(100 * res.accuracy).toFixed(1)}% of ${res.accuracy_n} prompts\n`);
        process.stdout.write(`circuit: heads ${c.heads.join(', ') || '(none)'}${c.mlps.length ? `; MLPs ${c.mlps.join(', ')}` : ''}${c.edges ? `; ${c.edges.length} edges` : ''}\n`);
        if (res.attention_check) process.stdout.write(attentionLines(res.attention_check));
        process.stdout.write(`wrote ${folder}\n`);
      }),
    );
  zoo
    .command('verify <name|folder>')
    .description('recompute accuracy and circuit from the weights and compare with the saved ones')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (name: string, opts: { json?: boolean }) => {
        const { model, recipe, folder } = await loadZooModel(name);
        const rep = verifyZooModel(model, recipe, resolveZooModel(folder), barFor('patching', !!opts.json));
        if (opts.json) printJson(rep);
        else {
          process.stdout.write(`${rep.name}: held-out accuracy ${(100 * rep.accuracy).toFixed(1)}% (saved ${rep.saved_accuracy === null ? '-' : `${(100 * rep.saved_accuracy).toFixed(1)}%`}, needs ≥ ${100 * rep.min_accuracy}%)\n`);
          process.stdout.write(`circuit: ${rep.circuit_differences.length ? rep.circuit_differences.join('; ') : 'same as circuit.json'}\n`);
          if (rep.attention_check) process.stdout.write(attentionLines(rep.attention_check));
          process.stdout.write(rep.ok ? 'verified\n' : `NOT verified: ${rep.problems.join('; ')}\n`);
        }
        if (!rep.ok) process.exitCode = 1;
      }),
    );
}

/** The attention check in a few lines: verdict, both head sets, and why each disputed head is disputed. */
function attentionLines(a: AttentionCheck): string {
  const head = `attention check: ${a.agrees ? 'agrees' : 'disagrees'} (attention ${a.by_attention.join(', ') || '(none)'}; patching ${a.by_patching.join(', ') || '(none)'})\n`;
  return head + a.disagreements.map((d) => `  ${d}\n`).join('');
}
