/**
 * `circuitscope evaluate --result result.json --truth <name|circuit.json|result.json>`: node and edge
 * ROC AUC and precision/recall against a ground truth, and (unless --no-faithfulness) the faithfulness
 * curve with MIB's CPR and CMD, recomputed on the result's model and task. Markdown or JSON; SVG plots
 * with --svg-dir.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { CircuitscopeError } from '../../util/errors.js';
import { progress } from '../../util/progress.js';
import { HookedTransformer } from '../../model/hooked-transformer.js';
import { makeTask } from '../../tasks/index.js';
import { type DiscoverResult, buildGraph, checkAblation } from '../../discovery/index.js';
import { builtinTruths, evaluateResult, faithfulnessSvg, isDiscoverResult, loadTruth, reportJson, reportMarkdown, rocSvg } from '../../eval/index.js';
import { faithfulnessCurve } from '../../eval/faithfulness-run.js';
import { action, positiveInt, printJson } from '../run.js';
import { readJsonFile, writeFileAtomic } from '../../util/files.js';

interface EvaluateOpts {
  result: string;
  truth: string;
  variant?: string;
  top?: number;
  threshold?: string;
  faithfulness: boolean;
  level?: 'node' | 'edge';
  svgDir?: string;
  json?: boolean;
  offline?: boolean;
}

/** A saved `discover` result: the method's scores plus the model, task, n and seed it ran on. */
export interface SavedResult extends DiscoverResult {
  model?: string;
  task?: string;
  n?: number;
  seed?: number;
}

function readResult(file: string): SavedResult {
  const raw = readJsonFile(file, '--result');
  if (!isDiscoverResult(raw)) throw new CircuitscopeError(`--result: ${file} is not a discover result`, 'write one with circuitscope discover … --out result.json');
  return raw as SavedResult;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('score a discover result against a ground-truth circuit (ROC AUC, P/R/F1, faithfulness)')
    .requiredOption('--result <file>', 'a result written by circuitscope discover --out')
    .requiredOption('--truth <name|file>', `a built-in truth (${Object.keys(builtinTruths()).join(', ')}), a circuit.json, or another discover result (e.g. exact patching)`)
    .option('--variant <name>', 'a variant listed in the truth file (e.g. oneill_bui_2024)')
    .option('--top <k>', 'precision/recall over the top k nodes (default: as many as the truth has)', positiveInt('--top'))
    .option('--threshold <t>', 'discover result as truth: keep nodes with |score| ≥ t · max |score| (default 0.1)')
    .option('--no-faithfulness', 'skip the faithfulness curve (it re-runs the model)')
    .option('--level <node|edge>', 'faithfulness over nodes or edges (default: edges when the result has them)')
    .option('--svg-dir <dir>', 'write roc.svg and faithfulness.svg here')
    .option('--offline', 'never download the model')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (opts: EvaluateOpts) => {
        const result = readResult(opts.result);
        if (!result.model) throw new CircuitscopeError(`--result: ${opts.result} does not say which model it ran on`, 're-run circuitscope discover with --out');
        const model = await HookedTransformer.load(result.model, { offline: opts.offline, quiet: !!opts.json });
        const graph = buildGraph(model.cfg);
        const rel = opts.threshold === undefined ? undefined : Number(opts.threshold);
        if (rel !== undefined && !(rel >= 0 && rel <= 1)) throw new CircuitscopeError(`--threshold must be in [0, 1], got "${opts.threshold}"`);
        const truth = loadTruth(opts.truth, model.cfg, { graph, variant: opts.variant, relThreshold: rel });
        const report = evaluateResult(result, truth, graph, { curves: !!opts.svgDir, nodeSelection: opts.top ? { topK: opts.top } : undefined });
        if (opts.faithfulness) {
          if (!result.task) throw new CircuitscopeError(`--result: ${opts.result} does not say which task it ran on`, 'pass --no-faithfulness');
          const task = makeTask(result.task, model, { n: result.n ?? 50, seed: result.seed ?? 0 });
          const ablation = checkAblation(String((result.options as { ablation?: string }).ablation ?? 'corrupted'));
          const level = opts.level ?? (result.edges ? 'edge' : 'node');
          if (level !== 'node' && level !== 'edge') throw new CircuitscopeError(`--level must be node or edge, got "${String(level)}"`);
          let last = 0;
          const bar = progress('faithfulness', 10, { quiet: !!opts.json });
          const run = faithfulnessCurve(model, task, result, { level, ablation, seed: result.seed, onProgress: (d) => { bar.tick(d - last); last = d; } });
          bar.stop();
          report.faithfulness = run.curve;
          Object.assign(report, { faithfulness_run: { level: run.level, ablation: run.ablation, total: run.total, kept: run.kept, metric: run.metric, metric_full: run.metricFull, metric_empty: run.metricEmpty } });
        }
        if (opts.svgDir) {
          const roc = [{ name: `${result.method} nodes`, curve: report.nodes.roc!, auc: report.nodes.auc }];
          if (report.edges?.roc) roc.push({ name: `${result.method} edges`, curve: report.edges.roc, auc: report.edges.auc });
          writeFileAtomic(path.join(opts.svgDir, 'roc.svg'), rocSvg(roc, { title: `ROC vs ${truth.name}` }));
          if (report.faithfulness) writeFileAtomic(path.join(opts.svgDir, 'faithfulness.svg'), faithfulnessSvg([{ name: result.method, x: report.faithfulness.x, f: report.faithfulness.f, cpr: report.faithfulness.cpr }], { title: 'faithfulness' }));
        }
        if (opts.json) {
          const { roc: _r, ...nodes } = report.nodes;
          const edges = report.edges ? (({ roc: _e, ...rest }) => rest)(report.edges) : null;
          return printJson(JSON.parse(reportJson({ ...report, nodes, edges })));
        }
        process.stdout.write(reportMarkdown([report]));
        process.stdout.write(`truth: ${truth.name}${truth.variant ? ` (${truth.variant})` : ''} — ${truth.nodes.size} nodes${truth.edges ? `, ${truth.edges.size} edges` : ''}; ${truth.convention}\n`);
        if (report.edgesSkipped) process.stdout.write(`edges not scored: ${report.edgesSkipped}\n`);
        if (opts.svgDir) process.stdout.write(`wrote ${path.join(opts.svgDir, 'roc.svg')}${report.faithfulness ? ` and faithfulness.svg` : ''}\n`);
      }),
    );
}
