/** peak: the machine's FMA-bound peak GFLOP/s measured in this run (the yardstick for "% of peak"). */
import type { Section } from '../harness.js';
import { fmt, round, threadsLabel } from '../harness.js';

export const peak: Section = {
  name: 'peak',
  describe: 'FMA-loop peak GFLOP/s of this machine on our threads (best of a few runs)',
  async run(ctx) {
    const p = ctx.peakGflops();
    const text = p === null
      ? [`Peak: not measurable on the '${ctx.backend.name}' backend (no native addon)`]
      : [`Peak (FMA loop, ${threadsLabel(ctx.threads)}, best of ${ctx.opts.quick ? 1 : 3}): ${fmt(p)} GFLOP/s`];
    return { json: { peak_gflops: round(p) }, text };
  },
};
