/**
 * The load section's child process (bench/sections/gpt2-load.ts): `node bench/load-child.mjs <model folder>
 * <module>` loads the model once with HookedTransformer.load in a fresh process and prints one JSON line
 * on stdout. <module> is the built package (dist/index.js, run by plain node, as the installed CLI runs)
 * or, when dist/ is missing or older than src/, src/model/hooked-transformer.ts under tsx's loader.
 * Plain JavaScript so that plain node can run it. Output:
 *
 *   {"seconds": load time, "peak_rss_bytes": the process's peak RSS after loading,
 *    "baseline_rss_bytes": RSS just before loading, "baseline_peak_rss_bytes": peak RSS before loading,
 *    "rss_source": "VmHWM" | "maxRSS", "max_rss_bytes": process.resourceUsage().maxRSS in bytes,
 *    "params": parameters loaded}
 *
 * The baseline is this process with node and circuitscope's modules imported (plus the TypeScript
 * loader when running from src/) but no weights: the least any loader could use on top of the weights.
 *
 * The peak is the kernel's high-water mark of this process image (VmHWM in /proc/self/status), not
 * process.resourceUsage().maxRSS: on Linux getrusage's maxRSS carries over through exec the RSS the
 * forked copy of the parent had, i.e. the whole bench process (≈ 1 GB after the gpt2 section). maxRSS
 * is still reported, and is the fallback where /proc is missing.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const maxRss = () => process.resourceUsage().maxRSS * 1024; // maxRSS is in KiB

/** VmHWM (peak RSS of this process image) in bytes, or null without Linux's /proc. */
function vmHwm() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const peakRss = () => vmHwm() ?? maxRss();

async function main() {
  const [folder, module] = process.argv.slice(2);
  if (!folder || !module) throw new Error('usage: load-child.mjs <model folder> <module exporting HookedTransformer>');
  const { HookedTransformer } = await import(pathToFileURL(module).href);
  const baseline = process.memoryUsage().rss;
  const baselinePeak = peakRss();
  const t0 = performance.now();
  const model = await HookedTransformer.load(folder);
  const seconds = (performance.now() - t0) / 1000;
  const peak = peakRss();
  let params = 0;
  for (const t of model.params.values()) params += t.size;
  process.stdout.write(`${JSON.stringify({ seconds, peak_rss_bytes: peak, baseline_rss_bytes: baseline, baseline_peak_rss_bytes: baselinePeak, rss_source: vmHwm() === null ? 'maxRSS' : 'VmHWM', max_rss_bytes: maxRss(), params })}\n`);
}

main().catch((e) => {
  process.stderr.write(`load-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
