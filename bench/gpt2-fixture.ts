/**
 * The random GPT-2 the gpt2 and load sections measure: written once per bench run as a Hugging Face
 * folder (config.json + model.safetensors, float32, GPT-2's checkpoint names) in a temporary folder that
 * is removed when the bench process exits. Full runs use GPT-2 small's shape (124M parameters, ≈ 0.5 GB);
 * --quick a 2-layer toy so that the smoke test stays fast.
 *
 * The values come from a cheap xorshift (uniform, scaled to std 0.02; ≈ 0.5 s for 124M values, where
 * randn would take ≈ 10 s): they only need to be random-ish, and both sides read the very same file.
 * Biases and LayerNorm parameters are random too, so that a mix-up of any of them shows in the check
 * of our logits against PyTorch's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawConfig, type ModelConfig } from '../src/model/config.js';
import { gpt2 } from '../src/model/families/gpt2.js';
import { writeSafetensors, type TensorInput } from '../src/tensor/safetensors.js';
import { progress } from '../src/util/progress.js';
import type { BenchContext } from './harness.js';

export interface Gpt2Fixture {
  folder: string;
  /** folder/model.safetensors */
  file: string;
  cfg: ModelConfig;
  /** config.json's contents (also handed to the PyTorch peer). */
  config: Record<string, number | string | boolean | string[]>;
  /** Float32 bytes of all tensors in the file. */
  weightBytes: number;
  params: number;
  /** A short label of the shape for tables, e.g. "12 layers, d_model 768, 124.4M params". */
  label: string;
}

/** GPT-2 small: 12 layers, 12 heads, d_model 768, d_mlp 3072, vocab 50257, n_positions 1024, tied, gelu_new. */
function hfConfig(quick: boolean): Gpt2Fixture['config'] {
  const shape = quick
    ? { n_layer: 2, n_head: 4, n_embd: 64, n_inner: 256, vocab_size: 1000, n_positions: 64 }
    : { n_layer: 12, n_head: 12, n_embd: 768, n_inner: 3072, vocab_size: 50257, n_positions: 1024 };
  const eos = shape.vocab_size - 1;
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    ...shape,
    n_ctx: shape.n_positions,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
    bos_token_id: eos,
    eos_token_id: eos,
  };
}

/** Uniform values with the given mean and standard deviation from a xorshift32 stream (state updated). */
function fillRandom(out: Float32Array, state: { s: number }, std: number, mean = 0): void {
  let s = state.s;
  const scale = (std * Math.sqrt(3)) / 2147483648; // (s | 0) is uniform on [-2³¹, 2³¹): variance 2⁶²/3
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = mean + (s | 0) * scale;
  }
  state.s = s;
}

function writeFixture(ctx: BenchContext): Gpt2Fixture {
  const quick = ctx.opts.quick;
  const folder = mkdtempSync(join(tmpdir(), 'circuitscope-bench-gpt2-'));
  const config = hfConfig(quick);
  const configFile = join(folder, 'config.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const cfg = gpt2.config(new RawConfig(config, configFile), 'bench-gpt2');
  const shapes = gpt2.paramShapes(cfg);

  const t0 = performance.now();
  const state = { s: 0x2545f491 };
  const tensors = new Map<string, TensorInput>();
  let params = 0;
  const bar = progress('gpt2 weights', shapes.size, { quiet: ctx.opts.json });
  try {
    for (const [name, shape] of shapes) {
      const data = new Float32Array(shape.reduce((a, d) => a * d, 1));
      if (/(^|\.)ln_[12f]\.weight$/.test(name)) fillRandom(data, state, 0.1, 1);
      else fillRandom(data, state, 0.02);
      tensors.set(name, { shape, data });
      params += data.length;
      bar.tick();
    }
  } finally {
    bar.stop();
  }
  const file = join(folder, 'model.safetensors');
  writeSafetensors(file, tensors);
  const label = `${cfg.nLayers} layers, ${cfg.nHeads} heads, d_model ${cfg.dModel}, d_mlp ${cfg.dMlp}, vocab ${cfg.dVocab}, ${(params / 1e6).toFixed(1)}M params`;
  ctx.note(`gpt2: wrote a random GPT-2 (${label}) to ${folder} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { folder, file, cfg, config, weightBytes: params * 4, params, label };
}

let fixture: Gpt2Fixture | undefined;
let fixtureQuick: boolean | undefined;

/** The bench run's random GPT-2 folder, written on first use and removed when the process exits. */
export function gpt2Fixture(ctx: BenchContext): Gpt2Fixture {
  if (fixture && fixtureQuick === ctx.opts.quick) return fixture;
  if (fixture) removeFixture();
  fixture = writeFixture(ctx);
  fixtureQuick = ctx.opts.quick;
  const folder = fixture.folder;
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  return fixture;
}

/** Removes the folder now (also done at exit). */
export function removeFixture(): void {
  if (fixture) rmSync(fixture.folder, { recursive: true, force: true });
  fixture = undefined;
  fixtureQuick = undefined;
}
