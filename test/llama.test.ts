/**
 * The Llama family on a real trained model (stories260K, llama2.c format): greedy text, agreement with an
 * independent scalar re-implementation of llama2.c's run.c, every hook's shape, patching, gradients vs
 * finite differences, RMSNorm scales, grouped KV heads, the HF-layout path and corrupt files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/tensor/index.js';
import type { Tensor } from '../src/tensor/index.js';
import { CircuitscopeError } from '../src/util/errors.js';
import { HookedTransformer } from '../src/model/hooked-transformer.js';
import { llama2cCheckpointIn, loadLlama2c } from '../src/model/llama2c.js';
import type { Params } from '../src/model/families/index.js';
import { SHARED } from './shared.js';

const DIR = path.join(SHARED, 'models/stories260K');
const BIN = path.join(DIR, 'stories260K.bin');
const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park.';

/** max |a − b| / max |b|. */
function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let mx = 0;
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    mx = Math.max(mx, Math.abs(b[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return d / mx;
}

/** logits [pos, vocab] by a scalar float64 transcription of llama2.c's run.c on the raw file (adjacent-pair RoPE, unpermuted weights). */
function runC(file: string, tokens: number[]): Float64Array[] {
  const buf = fs.readFileSync(file);
  const [dim, hid, nl, nh, nkv, vs, seq] = Array.from(new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 28)));
  const w = new Float32Array(buf.buffer.slice(buf.byteOffset + 28, buf.byteOffset + buf.length));
  const V = Math.abs(vs!), hs = dim! / nh!, kvd = nkv! * hs, D = dim!, H = hid!;
  let o = 0;
  const take = (n: number): number => ((o += n), o - n);
  const emb = take(V * D), rmsAtt = take(nl! * D), wq = take(nl! * D * D), wk = take(nl! * kvd * D), wv = take(nl! * kvd * D);
  const wo = take(nl! * D * D), rmsFfn = take(nl! * D), w1 = take(nl! * H * D), w2 = take(nl! * D * H), w3 = take(nl! * H * D);
  const rmsF = take(D);
  take(seq! * hs); // freq_cis_real and freq_cis_imag, [seq_len, head_size/2] each
  const wcls = vs! > 0 ? emb : o;
  const mat = (at: number, x: ArrayLike<number>, n: number, dOut: number): Float64Array => {
    const y = new Float64Array(dOut);
    for (let i = 0; i < dOut; i++) for (let j = 0; j < n; j++) y[i]! += w[at + i * n + j]! * x[j]!;
    return y;
  };
  const rms = (x: Float64Array, at: number): Float64Array => {
    const s = 1 / Math.sqrt(x.reduce((a, v) => a + v * v, 0) / D + 1e-5);
    return x.map((v, j) => v * s * w[at + j]!);
  };
  const kc = [...Array(nl)].map(() => [] as Float64Array[]), vc = [...Array(nl)].map(() => [] as Float64Array[]);
  return tokens.map((tok, pos) => {
    const x = Float64Array.from(w.subarray(emb + tok * D, emb + (tok + 1) * D));
    for (let l = 0; l < nl!; l++) {
      let xb = rms(x, rmsAtt + l * D);
      const q = mat(wq + l * D * D, xb, D, D), k = mat(wk + l * kvd * D, xb, D, kvd), v = mat(wv + l * kvd * D, xb, D, kvd);
      for (let i = 0; i < D; i += 2) {
        const a = pos / Math.pow(10000, (i % hs) / hs);
        for (const vec of i < kvd ? [q, k] : [q]) [vec[i], vec[i + 1]] = [vec[i]! * Math.cos(a) - vec[i + 1]! * Math.sin(a), vec[i]! * Math.sin(a) + vec[i + 1]! * Math.cos(a)];
      }
      kc[l]!.push(k);
      vc[l]!.push(v);
      xb = new Float64Array(D);
      for (let h = 0; h < nh!; h++) {
        const kh = Math.floor(h / (nh! / nkv!)) * hs;
        const att = kc[l]!.map((kt) => { let s = 0; for (let i = 0; i < hs; i++) s += q[h * hs + i]! * kt[kh + i]!; return s / Math.sqrt(hs); });
        const mx = Math.max(...att), e = att.map((s) => Math.exp(s - mx)), z = e.reduce((a, b) => a + b, 0);
        for (let t = 0; t <= pos; t++) for (let i = 0; i < hs; i++) xb[h * hs + i]! += (e[t]! / z) * vc[l]![t]![kh + i]!;
      }
      mat(wo + l * D * D, xb, D, D).forEach((v, j) => (x[j]! += v));
      xb = rms(x, rmsFfn + l * D);
      const g = mat(w1 + l * H * D, xb, D, H), u = mat(w3 + l * H * D, xb, D, H);
      mat(w2 + l * D * H, g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * u[i]!), H, D).forEach((v, j) => (x[j]! += v));
    }
    return mat(wcls, rms(x, rmsF), D, V);
  });
}

/** logits[b, −1, a] − logits[b, −1, c] summed over the batch. */
const logitDiff = (a: number, c: number) => (logits: Tensor): Tensor => {
  const last = T.slice(logits, 1, -1); // [batch, 1, d_vocab]
  return T.sum(T.sub(T.slice(last, 2, a, a + 1), T.slice(last, 2, c, c + 1)));
};

describe('stories260K (llama2.c checkpoint) through the Llama family', () => {
  let model: HookedTransformer;
  let prompt: number[];
  let tmp: string;
  beforeAll(() => {
    model = loadLlama2c(BIN);
    prompt = Array.from(model.toTokens('Once upon a time, there was a little girl').data); // BOS + 11 tokens
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-llama-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads the header into a Llama config (grouped KV heads, tied embeddings)', () => {
    expect(model.cfg).toMatchObject({ family: 'llama', nLayers: 5, nHeads: 8, nKvHeads: 4, dModel: 64, dHead: 8, dMlp: 172, nCtx: 512, dVocab: 512, normEps: 1e-5, ropeTheta: 10000, tiedEmbeddings: true, bosTokenId: 1 });
    expect(llama2cCheckpointIn(DIR)).toBe(BIN);
    expect(llama2cCheckpointIn(BIN)).toBe(BIN);
    expect(llama2cCheckpointIn(path.join(DIR, 'tok512.bin'))).toBeNull();
    expect(llama2cCheckpointIn(path.join(SHARED, 'models/tiny-gpt2-random'))).toBeNull();
    expect(model.weight('blocks.0.attn.W_Q').shape).toEqual([8, 64, 8]);
    const wk = model.weight('blocks.0.attn.W_K'); // [head, d_model, d_head], kv heads repeated
    expect(wk.shape).toEqual([8, 64, 8]);
    expect(Array.from(T.slice(wk, 0, 2, 3).data)).toEqual(Array.from(T.slice(wk, 0, 3, 4).data));
    expect(model.weight('blocks.4.mlp.W_gate').shape).toEqual([64, 172]);
  });

  it('greedy decoding from BOS reproduces the story', () => {
    const res = model.generate([1], { maxNewTokens: 40 });
    expect(res.newTokens).toHaveLength(40);
    expect(res.text!.startsWith(STORY)).toBe(true);
  });

  it('logits match a scalar transcription of llama2.c run.c (adjacent-pair RoPE on the raw weights)', () => {
    const toks = [1, ...model.generate([1], { maxNewTokens: 23 }).newTokens];
    const ref = runC(BIN, toks);
    const logits = model.forward([toks]); // [1, pos, d_vocab]
    for (let p = 0; p < toks.length; p++) expect(relMax(logits.data.subarray(p * 512, (p + 1) * 512), ref[p]!)).toBeLessThan(1e-4);
  });

  it('every listed hook fires with its declared shape (shared and split inputs)', () => {
    const toks = [prompt, [1, ...prompt.slice(2), 400]]; // [2, pos]
    const P = prompt.length;
    const dims: Record<string, number> = { batch: 2, pos: P, query: P, key: P, d_model: 64, head: 8, kv_head: 4, d_head: 8, d_mlp: 172, '1': 1 };
    const base = model.runWithCache(toks).logits;
    for (const splitInputs of [false, true]) {
      const specs = model.hookSpecs({ splitInputs });
      const { logits, cache } = model.runWithCache(toks, { splitInputs });
      expect(new Set(cache.names())).toEqual(new Set(specs.map((s) => s.name)));
      for (const s of specs) {
        const want = s.shape.slice(1, -1).split(', ').map((d) => dims[d]);
        expect(cache.get(s.name).shape, s.name).toEqual(want);
      }
      expect(relMax(logits.data, base.data)).toBeLessThan(1e-5);
    }
    expect(model.hookNames()).toHaveLength(1 + 5 * 21 + 2);
    expect(model.hookNames()).not.toContain('hook_pos_embed');
  });

  it('a forward hook replacing hook_z changes the logits (and only its head)', () => {
    const { logits, cache } = model.runWithCache(prompt);
    const ablate = (z: Tensor): Tensor => {
      const out = new T.Tensor(z.data.slice(), z.shape); // [batch, pos, head, d_head]
      for (let p = 0; p < z.shape[1]!; p++) out.data.fill(0, (p * 8 + 3) * 8, (p * 8 + 4) * 8);
      return out;
    };
    const patched = model.runWithCache(prompt, { fwd: [['blocks.2.attn.hook_z', ablate]] });
    expect(relMax(patched.logits.data, logits.data)).toBeGreaterThan(1e-3);
    const z = patched.cache.get('blocks.2.attn.hook_z');
    expect(Array.from(z.data.subarray(3 * 8, 4 * 8))).toEqual(new Array(8).fill(0));
    expect(Array.from(T.slice(z, 2, 0, 3).data)).toEqual(Array.from(T.slice(cache.get('blocks.2.attn.hook_z'), 2, 0, 3).data));
    expect(Array.from(patched.cache.get('blocks.2.hook_resid_pre').data)).toEqual(Array.from(cache.get('blocks.2.hook_resid_pre').data));
    // A hook returning nothing keeps the activation (runWithCache summed hook_result per head: float rounding only).
    expect(relMax(model.runWithHooks(prompt, { fwd: [['blocks.2.attn.hook_z', () => undefined]] }).data, logits.data)).toBeLessThan(1e-6);
  });

  it('gradients at hook points match central differences of the metric', () => {
    const next = model.generate(prompt, { maxNewTokens: 1 }).newTokens[0]!;
    const metric = logitDiff(next, 42);
    const names = ['blocks.1.attn.hook_z', 'blocks.2.attn.hook_rot_k', 'blocks.3.ln2.hook_scale', 'blocks.0.mlp.hook_post', 'blocks.4.attn.hook_pattern'];
    const { grads, value } = model.gradients(prompt, metric, { names });
    expect(value).toBeCloseTo(metric(model.forward(prompt)).item(), 4);
    const eps = 1e-2;
    for (const name of names) {
      const g = grads.get(name);
      let scale = 0;
      for (const v of g.data) scale = Math.max(scale, Math.abs(v));
      expect(scale, name).toBeGreaterThan(0);
      const big = Array.from(g.data.keys()).sort((a, b) => Math.abs(g.data[b]!) - Math.abs(g.data[a]!));
      for (const i of [...big.slice(0, 3), big[Math.floor(big.length / 3)]!]) {
        const at = (d: number): number => metric(model.runWithHooks(prompt, { fwd: [[name, (x) => {
          const y = new T.Tensor(x.data.slice(), x.shape);
          y.data[i]! += d;
          return y;
        }]] })).item();
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        expect(Math.abs(fd - g.data[i]!) / scale, `${name}[${i}]`).toBeLessThan(5e-3);
      }
    }
  });

  it('RMSNorm hook_scale = √(mean(x²) + eps) of the cached residual, hook_normalized = x / scale (before the weight, as TransformerLens)', () => {
    const { logits, cache } = model.runWithCache(prompt);
    const check = (resid: string, ln: string, w: string): void => {
      const x = cache.get(resid); // [batch, pos, d_model]
      const want = T.sqrt(T.add(T.mean(T.square(x), -1, true), 1e-5)); // [batch, pos, 1]
      expect(cache.get(`${ln}hook_scale`).shape).toEqual(want.shape);
      expect(relMax(cache.get(`${ln}hook_scale`).data, want.data)).toBeLessThan(1e-5);
      const normed = T.div(x, want); // [batch, pos, d_model]
      expect(relMax(cache.get(`${ln}hook_normalized`).data, normed.data)).toBeLessThan(1e-5);
      expect(model.params.get(w)!.shape).toEqual([64]);
    };
    for (let l = 0; l < 5; l++) {
      check(`blocks.${l}.hook_resid_pre`, `blocks.${l}.ln1.`, `model.layers.${l}.input_layernorm.weight`);
      check(`blocks.${l}.hook_resid_mid`, `blocks.${l}.ln2.`, `model.layers.${l}.post_attention_layernorm.weight`);
    }
    check('blocks.4.hook_resid_post', 'ln_final.', 'model.norm.weight');
    // Hooking the scale takes the explicit (unfused) path: same logits; doubling it halves the normalized input.
    const explicit = model.runWithHooks(prompt, { fwd: [[(n) => n.endsWith('hook_scale'), () => undefined]] });
    expect(relMax(explicit.data, logits.data)).toBeLessThan(1e-5);
    const doubled = model.runWithCache(prompt, { names: ['blocks.0.ln1.hook_normalized'], fwd: [['blocks.0.ln1.hook_scale', (s) => T.mul(s, 2)]] });
    expect(relMax(doubled.cache.get('blocks.0.ln1.hook_normalized').data, T.mul(cache.get('blocks.0.ln1.hook_normalized'), 0.5).data)).toBeLessThan(1e-6);
  });

  it('grouped KV heads (4 for 8 query heads) equal full attention with k/v heads repeated', () => {
    const { cache } = model.runWithCache(prompt, { names: ['blocks.0.attn.hook_k', 'blocks.0.attn.hook_v'] });
    expect(cache.get('blocks.0.attn.hook_k').shape).toEqual([1, prompt.length, 4, 8]);
    const full: Params = new Map(model.params);
    for (let l = 0; l < 5; l++) {
      for (const x of ['k', 'v']) {
        const name = `model.layers.${l}.self_attn.${x}_proj.weight`;
        const w = model.params.get(name)!; // [kv_head·d_head, d_model]
        full.set(name, T.indexSelect(w.reshape(4, 8 * 64), 0, [0, 0, 1, 1, 2, 2, 3, 3]).reshape(64, 64)); // [head·d_head, d_model]
      }
    }
    const mha = new HookedTransformer({ ...model.cfg, nKvHeads: 8 }, full, null);
    const a = model.forward(prompt);
    expect(relMax(mha.forward(prompt).data, a.data)).toBeLessThan(1e-5);
    expect(mha.runWithCache(prompt, { names: ['blocks.0.attn.hook_k'] }).cache.get('blocks.0.attn.hook_k').shape).toEqual([1, prompt.length, 8, 8]);
  });

  it('the same weights in the Hugging Face layout load through HookedTransformer.load (model_type "llama")', async () => {
    const folder = path.join(tmp, 'hf');
    fs.mkdirSync(folder);
    T.saveTensors(path.join(folder, 'model.safetensors'), model.params);
    fs.copyFileSync(path.join(DIR, 'tok512.bin'), path.join(folder, 'tok512.bin'));
    const config = { model_type: 'llama', hidden_size: 64, intermediate_size: 172, num_hidden_layers: 5, num_attention_heads: 8, num_key_value_heads: 4, max_position_embeddings: 512, vocab_size: 512, rms_norm_eps: 1e-5, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2 };
    fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify(config));
    const hf = await HookedTransformer.load(folder);
    expect(hf.cfg).toMatchObject({ family: 'llama', nKvHeads: 4, ropeTheta: 10000 });
    expect(Array.from(hf.forward(prompt).data)).toEqual(Array.from(model.forward(prompt).data));
    expect(hf.generate([1], { maxNewTokens: 30 }).text!.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
    fs.writeFileSync(path.join(folder, 'config.json'), JSON.stringify({ ...config, rope_scaling: { rope_type: 'llama3', factor: 8 } }));
    await expect(HookedTransformer.load(folder)).rejects.toThrow(/rope_scaling is not supported/);
  });

  it('truncated or corrupt .bin files give one clear CircuitscopeError', () => {
    const bytes = fs.readFileSync(BIN);
    const write = (name: string, b: Uint8Array): string => {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, b);
      return f;
    };
    const expectError = (f: string, re: RegExp): void => {
      let err: unknown;
      try {
        loadLlama2c(f);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CircuitscopeError);
      expect((err as Error).message).toMatch(re);
    };
    expectError(write('half.bin', bytes.subarray(0, bytes.length >> 1)), /half\.bin: truncated: 528270 bytes.*implies 1056540.*tensor w1\[\d\] \[172, 64\]/);
    expectError(write('short.bin', bytes.subarray(0, 10)), /short\.bin: truncated: 10 bytes, shorter than the 28-byte header/);
    expectError(write('last.bin', bytes.subarray(0, bytes.length - 4)), /truncated.*freq_cis_imag/);
    expectError(write('long.bin', Buffer.concat([bytes, Buffer.alloc(8)])), /8 unexpected bytes after the last tensor/);
    const badHeads = Buffer.from(bytes);
    badHeads.writeInt32LE(3, 16); // n_kv_heads = 3 does not divide 8 heads
    expectError(write('heads.bin', badHeads), /n_heads 8 cannot share n_kv_heads 3/);
    const magic = Buffer.from(bytes);
    magic.writeUInt32LE(0x616b3432, 0);
    expectError(write('v1.bin', magic), /version 1\/2 export/);
    expectError(path.join(tmp, 'missing.bin'), /cannot open the llama2\.c checkpoint \(ENOENT\)/);
  });
});
