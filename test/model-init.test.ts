/** initParams for both families, and HookedTransformer.load routing a llama2.c folder to its reader. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawConfig } from '../src/model/config.js';
import { gpt2 } from '../src/model/families/gpt2.js';
import { llama } from '../src/model/families/llama.js';
import { initParams } from '../src/model/init.js';
import { HookedTransformer } from '../src/model/hooked-transformer.js';
import { Rng } from '../src/util/rng.js';
import { SHARED } from './shared.js';

const stats = (d: Float32Array): { mean: number; std: number } => {
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  return { mean, std: Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length) };
};

describe('initParams', () => {
  it('GPT-2: matrices N(0, 0.02²), LayerNorm weights 1, biases 0; every checkpoint name present', () => {
    const cfg = gpt2.config(new RawConfig({ model_type: 'gpt2', n_layer: 2, n_head: 4, n_embd: 64, vocab_size: 100, n_positions: 16 }, 'test'), 't');
    const p = initParams(cfg, new Rng(1));
    expect([...p.keys()]).toEqual([...gpt2.paramShapes(cfg).keys()]);
    expect(new Set(p.get('h.1.ln_2.weight')!.data)).toEqual(new Set([1]));
    expect(new Set(p.get('ln_f.weight')!.data)).toEqual(new Set([1]));
    expect(new Set(p.get('h.0.attn.c_attn.bias')!.data)).toEqual(new Set([0]));
    const s = stats(p.get('h.0.mlp.c_fc.weight')!.data);
    expect(Math.abs(s.mean)).toBeLessThan(2e-3);
    expect(Math.abs(s.std - 0.02)).toBeLessThan(1e-3);
  });
  it('Llama: RMSNorm weights (input_layernorm, post_attention_layernorm, norm) are 1', () => {
    const cfg = llama.config(new RawConfig({ model_type: 'llama', num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 32, intermediate_size: 64, vocab_size: 50, max_position_embeddings: 16 }, 'test'), 't');
    const p = initParams(cfg, new Rng(2));
    for (const n of ['model.layers.0.input_layernorm.weight', 'model.layers.0.post_attention_layernorm.weight', 'model.norm.weight']) expect(new Set(p.get(n)!.data), n).toEqual(new Set([1]));
  });
});

describe('HookedTransformer.load on a llama2.c folder', () => {
  it('routes ../shared/models/stories260K to the llama2.c reader and tells a story', async () => {
    const model = await HookedTransformer.load(path.join(SHARED, 'models/stories260K'));
    expect(model.cfg.family).toBe('llama');
    expect(model.generate([1], { maxNewTokens: 8 }).text).toMatch(/^Once upon a time/);
  });
});
