/**
 * Reader of llama2.c checkpoints (Karpathy's legacy "version 0" `.bin`, e.g. tinyllamas' stories260K.bin):
 *
 *   7 × int32 header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (< 0: untied classifier), seq_len
 *   float32 weights, each stacked over layers, in this order:
 *     token_embedding_table [vocab, dim], rms_att_weight [layer, dim], wq [layer, dim, dim],
 *     wk, wv [layer, kv_dim, dim], wo [layer, dim, dim], rms_ffn_weight [layer, dim],
 *     w1 [layer, hidden, dim], w2 [layer, dim, hidden], w3 [layer, hidden, dim], rms_final_weight [dim],
 *     freq_cis_real, freq_cis_imag [seq_len, head_size/2] (unused), wcls [vocab, dim] if untied.
 *
 * Matrices are torch Linear weights [out, in]; they become the Llama family's Hugging Face names
 * (w1 = gate_proj, w3 = up_proj, w2 = down_proj). llama2.c rotates adjacent pairs (q[2i], q[2i+1]); the
 * family uses HF's rotate-half layout, so the rows of wq and wk are permuted within each head (row 2i + j
 * → row j·d_head/2 + i), as HF's Llama conversion does. Attention scores and logits are unchanged; hook_q
 * and hook_k show the dimensions in HF/TransformerLens order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CircuitscopeError } from '../util/errors.js';
import { Tensor, fmtShape } from '../tensor/index.js';
import { type ModelConfig, validateConfig } from './config.js';
import type { Params } from './families/index.js';
import { llama } from './families/llama.js';
import { HookedTransformer } from './hooked-transformer.js';
import { LLAMA2C_BOS, LLAMA2C_EOS, type Tokenizer, llama2cTokenizer } from './tokenizers/index.js';

const HEADER_BYTES = 7 * 4;
/** llama2.c's export.py writes "ak42" first in its version 1/2 formats. */
const MAGIC_AK42 = 0x616b3432;

/** One stored tensor: its Llama name (null: skipped), shape and byte offset. */
interface Entry {
  name: string | null;
  /** llama2.c's name, for error messages. */
  what: string;
  shape: number[];
  offset: number;
}

export interface Llama2cFile {
  cfg: ModelConfig;
  params: Params;
}

function fail(file: string, msg: string, hint = 'expected a llama2.c (legacy, version 0) .bin checkpoint; re-download or re-export it'): never {
  throw new CircuitscopeError(`${file}: ${msg}`, hint);
}

/** The ModelConfig a llama2.c header describes (family 'llama', RMSNorm eps 1e-5, RoPE θ 10000). */
function configFromHeader(h: Int32Array, name: string, file: string): ModelConfig {
  const [dim, hidden, nLayers, nHeads, nKv, vocab, seqLen] = Array.from(h) as [number, number, number, number, number, number, number];
  if (h[0] === MAGIC_AK42) fail(file, 'is a llama2.c version 1/2 export ("ak42" magic)', 'only the legacy float32 format (export.py --version 0) is supported');
  const named = { dim, hidden_dim: hidden, n_layers: nLayers, n_heads: nHeads, n_kv_heads: nKv, seq_len: seqLen };
  for (const [k, v] of Object.entries(named)) if (v <= 0) fail(file, `header field ${k} is ${v}, expected a positive integer`);
  if (vocab === 0) fail(file, 'header field vocab_size is 0');
  if (dim % nHeads !== 0) fail(file, `dim ${dim} is not divisible by n_heads ${nHeads}`);
  if (nKv > nHeads || nHeads % nKv !== 0) fail(file, `n_heads ${nHeads} cannot share n_kv_heads ${nKv} key/value heads`);
  if ((dim / nHeads) % 2 !== 0) fail(file, `head size ${dim / nHeads} is odd; rotary embeddings need an even head size`);
  return validateConfig({
    family: 'llama',
    modelType: 'llama',
    name,
    nLayers,
    nHeads,
    nKvHeads: nKv,
    dModel: dim,
    dHead: dim / nHeads,
    dMlp: hidden,
    nCtx: seqLen,
    dVocab: Math.abs(vocab),
    actFn: 'silu',
    normEps: 1e-5,
    tiedEmbeddings: vocab > 0,
    attnOnly: false,
    bosTokenId: LLAMA2C_BOS,
    eosTokenId: LLAMA2C_EOS,
    ropeTheta: 10000,
  }, file);
}

/** Every stored tensor in file order with its byte offset; returns the entries and the expected file size. */
function layout(cfg: ModelConfig): { entries: Entry[]; bytes: number } {
  const { dModel: d, dMlp: m, dVocab: v, nLayers: L, nKvHeads: kv, dHead: dh, nCtx } = cfg;
  const entries: Entry[] = [];
  let offset = HEADER_BYTES;
  const push = (name: string | null, what: string, shape: number[]): void => {
    entries.push({ name, what, shape, offset });
    offset += 4 * shape.reduce((a, b) => a * b, 1);
  };
  const perLayer = (what: string, hf: string, shape: number[]): void => {
    for (let l = 0; l < L; l++) push(`model.layers.${l}.${hf}.weight`, `${what}[${l}]`, shape);
  };
  push('model.embed_tokens.weight', 'token_embedding_table', [v, d]);
  perLayer('rms_att_weight', 'input_layernorm', [d]);
  perLayer('wq', 'self_attn.q_proj', [d, d]);
  perLayer('wk', 'self_attn.k_proj', [kv * dh, d]);
  perLayer('wv', 'self_attn.v_proj', [kv * dh, d]);
  perLayer('wo', 'self_attn.o_proj', [d, d]);
  perLayer('rms_ffn_weight', 'post_attention_layernorm', [d]);
  perLayer('w1', 'mlp.gate_proj', [m, d]);
  perLayer('w2', 'mlp.down_proj', [d, m]);
  perLayer('w3', 'mlp.up_proj', [m, d]);
  push('model.norm.weight', 'rms_final_weight', [d]);
  push(null, 'freq_cis_real', [nCtx, dh / 2]);
  push(null, 'freq_cis_imag', [nCtx, dh / 2]);
  if (!cfg.tiedEmbeddings) push('lm_head.weight', 'wcls', [v, d]);
  return { entries, bytes: offset };
}

/**
 * Rows of a q/k weight [heads·d_head, d_model] from llama2.c's adjacent-pair order to HF's rotate-half
 * order, in place: within each head, row 2i + j moves to row j·d_head/2 + i.
 */
function toRotateHalf(w: Float32Array, heads: number, dHead: number, dIn: number): void {
  const half = dHead / 2;
  const tmp = new Float32Array(dHead * dIn); // one head's rows [d_head, d_model]
  for (let h = 0; h < heads; h++) {
    const base = h * dHead * dIn;
    tmp.set(w.subarray(base, base + dHead * dIn));
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) w.set(tmp.subarray((2 * i + j) * dIn, (2 * i + j + 1) * dIn), base + (j * half + i) * dIn);
    }
  }
}

/** Reads a llama2.c checkpoint one tensor at a time into a ModelConfig and Params under Llama's HF names. */
export function readLlama2c(binPath: string, name = path.basename(binPath).replace(/\.bin$/, '')): Llama2cFile {
  let fd: number;
  try {
    fd = fs.openSync(binPath, 'r');
  } catch (e) {
    throw new CircuitscopeError(`${binPath}: cannot open the llama2.c checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < HEADER_BYTES) fail(binPath, `truncated: ${size} bytes, shorter than the ${HEADER_BYTES}-byte header`);
    const header = new Int32Array(7);
    fs.readSync(fd, new Uint8Array(header.buffer), 0, HEADER_BYTES, 0);
    const cfg = configFromHeader(header, name, binPath);
    const { entries, bytes } = layout(cfg);
    const cut = entries.find((e) => e.offset + 4 * e.shape.reduce((a, b) => a * b, 1) > size);
    if (cut) {
      fail(binPath, `truncated: ${size} bytes, but the header (dim ${cfg.dModel}, ${cfg.nLayers} layers, vocab ${cfg.dVocab}) implies ${bytes}; ` +
        `tensor ${cut.what} ${fmtShape(cut.shape)} at byte ${cut.offset} runs past the end`);
    }
    if (size !== bytes) fail(binPath, `${size - bytes} unexpected bytes after the last tensor (the header implies ${bytes} bytes)`, 'the header and the weights do not belong together; is this a llama2.c legacy .bin?');
    const params: Params = new Map();
    for (const e of entries) {
      if (e.name === null) continue;
      const t = new Tensor(new Float32Array(e.shape.reduce((a, b) => a * b, 1)), e.shape); // e.shape
      const dst = new Uint8Array(t.data.buffer);
      for (let done = 0; done < dst.length;) {
        const got = fs.readSync(fd, dst, done, Math.min(dst.length - done, 1 << 30), e.offset + done);
        if (got === 0) fail(binPath, `short read of ${e.what}: ${done} of ${dst.length} bytes at byte ${e.offset}`);
        done += got;
      }
      for (let i = 0; i < t.size; i++) if (!Number.isFinite(t.data[i]!)) fail(binPath, `${e.what} holds a non-finite value at element ${i}`, 'the file is corrupt; re-download it');
      if (e.name.endsWith('q_proj.weight')) toRotateHalf(t.data, cfg.nHeads, cfg.dHead, cfg.dModel);
      if (e.name.endsWith('k_proj.weight')) toRotateHalf(t.data, cfg.nKvHeads, cfg.dHead, cfg.dModel);
      params.set(e.name, t);
    }
    return { cfg, params };
  } finally {
    fs.closeSync(fd);
  }
}

/** `.bin` names that are not llama2.c checkpoints: its tokenizers, and PyTorch pickles of Hugging Face folders. */
const notCheckpoint = (base: string): boolean => base === 'tokenizer.bin' || /^tok\d+\.bin$/.test(base) || /^(pytorch_model|training_args)/.test(base);

/** The llama2.c tokenizer beside a checkpoint: tokenizer.bin or tok<vocab>.bin, or null when neither exists. */
function findTokenizer(binPath: string, vocab: number): string | null {
  const dir = path.dirname(binPath);
  for (const f of ['tokenizer.bin', `tok${vocab}.bin`]) if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
  return null;
}

/**
 * The llama2.c checkpoint `input` names: a `.bin` file itself, or the one `.bin` in a folder without
 * config.json that is not a tokenizer; null otherwise (a Hugging Face folder, a hub id, …).
 */
export function llama2cCheckpointIn(input: string): string | null {
  if (!fs.existsSync(input)) return null;
  if (fs.statSync(input).isFile()) return input.endsWith('.bin') && !notCheckpoint(path.basename(input)) ? input : null;
  const folder = input;
  if (fs.existsSync(path.join(folder, 'config.json'))) return null; // a Hugging Face folder
  const bins = fs.readdirSync(folder).filter((f) => f.endsWith('.bin') && !notCheckpoint(f));
  if (bins.length > 1) throw new CircuitscopeError(`${folder}: several llama2.c checkpoints (${bins.join(', ')})`, 'pass the .bin file itself');
  return bins.length ? path.join(folder, bins[0]!) : null;
}

/**
 * A HookedTransformer (Llama family) from a llama2.c checkpoint, with the llama2.c tokenizer from
 * `tokPath` or found beside the checkpoint (tokenizer.bin / tok<vocab>.bin); no tokenizer if none exists.
 */
export function loadLlama2c(binPath: string, tokPath?: string, opts: { splitInputs?: boolean; attnResult?: boolean } = {}): HookedTransformer {
  const { cfg, params } = readLlama2c(binPath);
  const tokFile = tokPath ?? findTokenizer(binPath, cfg.dVocab);
  let tokenizer: Tokenizer | null = null;
  if (tokFile !== null) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fs.readFileSync(tokFile));
    } catch {
      throw new CircuitscopeError(`${tokFile}: cannot read the llama2.c tokenizer`);
    }
    tokenizer = llama2cTokenizer(bytes, cfg.dVocab, tokFile);
  }
  return new HookedTransformer(cfg, params, tokenizer, llama, opts);
}
