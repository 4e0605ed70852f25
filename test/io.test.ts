/** Tensors through safetensors files: the real tiny GPT-2 checkpoint and the reference activations. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import { SHARED } from './shared.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'cs-io-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadTensors / saveTensors', () => {
  it('loads the tiny GPT-2 weights as Tensors and they compute a real layer norm', () => {
    const { floats } = T.loadTensors(path.join(SHARED, 'models/tiny-gpt2-random/model.safetensors'));
    const wte = floats.get('wte.weight')!;
    expect(wte.shape).toEqual([256, 64]);
    const ln = floats.get('h.0.ln_1.weight')!;
    expect(ln.shape).toEqual([64]);
    // LayerNorm of the first 3 token embeddings: each row gets mean 0 and RMS √(v / (v + eps)), v its variance
    const x = T.indexSelect(wte, 0, [0, 1, 2]);
    const y = T.layerNorm(x, T.ones([64]), T.zeros([64]), 1e-5);
    const mu = T.mean(y, -1);
    const sd = T.sqrt(T.mean(T.square(y), -1));
    for (let i = 0; i < 3; i++) {
      const row = Array.from(wte.data.subarray(i * 64, (i + 1) * 64));
      const m = row.reduce((a, b) => a + b, 0) / 64;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 64;
      expect(Math.abs(mu.data[i]!)).toBeLessThan(1e-6);
      expect(Math.abs(sd.data[i]! - Math.sqrt(v / (v + 1e-5)))).toBeLessThan(1e-6);
    }
  });

  it('reads the reference file: int64 tokens as IntTensor, activations as Tensors', () => {
    const ref = T.loadTensors(path.join(SHARED, 'reference/tiny-gpt2-random.safetensors'), { names: ['tokens', 'logits', 'metric'] });
    const tokens = ref.ints.get('tokens')!;
    expect(tokens.shape).toEqual([3, 12]);
    expect(Math.max(...tokens.data)).toBeLessThan(256);
    expect(ref.floats.get('logits')!.shape).toEqual([3, 12, 256]);
    expect(ref.floats.get('metric')!.size).toBe(1);
    expect(() => T.loadTensors(path.join(SHARED, 'reference/tiny-gpt2-random.safetensors'), { names: ['nope'] })).toThrow(/no tensor named "nope"/);
  });

  it('round-trips float and int tensors, with F16 on request', () => {
    const file = path.join(tmp, 'rt.safetensors');
    const a = T.tensor([[1.5, -2], [3.25, 65504]]);
    const idx = T.intTensor([3, -1, 7], [3]);
    T.saveTensors(file, { a, idx }, { metadata: { note: 'hi' }, dtype: 'F16' });
    const back = T.loadTensors(file);
    expect(back.floats.get('a')!.toArray()).toEqual([[1.5, -2], [3.25, 65504]]);
    expect(Array.from(back.ints.get('idx')!.data)).toEqual([3, -1, 7]);
    expect(back.metadata).toEqual({ note: 'hi' });
  });
});
