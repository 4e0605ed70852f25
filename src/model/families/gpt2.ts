/**
 * GPT-2 (pre-LN, learned positions, gelu_new, tied or untied unembedding) in Hugging Face's checkpoint
 * layout: Conv1D weights stored [in, out], so x·W needs no transpose; the fused qkv projection
 * c_attn [d_model, 3·d_model] is split into q, k, v after one GEMM.
 */
import * as T from '../../tensor/index.js';
import type { IntTensor, Tensor } from '../../tensor/index.js';
import { type ModelConfig, type RawConfig, validateConfig } from '../config.js';
import { CircuitscopeError } from '../../util/errors.js';
import type { HookRun, HookSpec } from '../hooks.js';
import { activation, attentionCore, attentionOutput, hookedLayerNorm, perHeadLinear, repeatHeads } from '../components.js';
import { type Family, type Params, param } from './family.js';

function config(raw: RawConfig, name: string): ModelConfig {
  if (raw.bool('scale_attn_by_inverse_layer_idx', false)) {
    throw new CircuitscopeError(`${raw.source}: scale_attn_by_inverse_layer_idx is not supported`, 'only standard GPT-2 attention scaling (1/√d_head) is implemented');
  }
  const dModel = raw.int(['n_embd', 'hidden_size']);
  const nHeads = raw.int(['n_head', 'num_attention_heads']);
  const attnOnly = raw.bool('attn_only', false);
  return validateConfig({
    family: 'gpt2',
    modelType: raw.str('model_type', 'gpt2'),
    name,
    nLayers: raw.int(['n_layer', 'num_hidden_layers']),
    nHeads,
    nKvHeads: nHeads,
    dModel,
    dHead: Math.floor(dModel / nHeads),
    dMlp: attnOnly ? 0 : raw.int(['n_inner'], 4 * dModel),
    nCtx: raw.int(['n_positions', 'n_ctx']),
    dVocab: raw.int(['vocab_size']),
    actFn: raw.str('activation_function', 'gelu_new'),
    normEps: raw.num('layer_norm_epsilon', 1e-5),
    tiedEmbeddings: raw.bool('tie_word_embeddings', true),
    attnOnly,
    bosTokenId: raw.tokenId('bos_token_id'),
    eosTokenId: raw.tokenId('eos_token_id'),
  }, raw.source);
}

function paramShapes(cfg: ModelConfig): Map<string, number[]> {
  const { dModel: d, dMlp: m, dVocab: v, nCtx } = cfg;
  const s = new Map<string, number[]>([['wte.weight', [v, d]], ['wpe.weight', [nCtx, d]]]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const h = `h.${l}.`;
    s.set(`${h}ln_1.weight`, [d]).set(`${h}ln_1.bias`, [d]);
    s.set(`${h}attn.c_attn.weight`, [d, 3 * d]).set(`${h}attn.c_attn.bias`, [3 * d]);
    s.set(`${h}attn.c_proj.weight`, [d, d]).set(`${h}attn.c_proj.bias`, [d]);
    if (cfg.attnOnly) continue;
    s.set(`${h}ln_2.weight`, [d]).set(`${h}ln_2.bias`, [d]);
    s.set(`${h}mlp.c_fc.weight`, [d, m]).set(`${h}mlp.c_fc.bias`, [m]);
    s.set(`${h}mlp.c_proj.weight`, [m, d]).set(`${h}mlp.c_proj.bias`, [d]);
  }
  s.set('ln_f.weight', [d]).set('ln_f.bias', [d]);
  if (!cfg.tiedEmbeddings) s.set('lm_head.weight', [v, d]);
  return s;
}

/** Every hook point, in the order the forward pass fires them. */
function hooks(cfg: ModelConfig, opts: { splitInputs?: boolean } = {}): HookSpec[] {
  const out: HookSpec[] = [
    { name: 'hook_embed', shape: '[batch, pos, d_model]' },
    { name: 'hook_pos_embed', shape: '[batch, pos, d_model]' },
  ];
  const add = (name: string, shape: string): void => void out.push({ name, shape });
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}.`;
    add(`${b}hook_resid_pre`, '[batch, pos, d_model]');
    const perHead = opts.splitInputs ? 'head, ' : '';
    if (opts.splitInputs) for (const x of ['q', 'k', 'v']) add(`${b}hook_${x}_input`, '[batch, pos, head, d_model]');
    add(`${b}ln1.hook_scale`, `[batch, pos, ${perHead}1]`);
    add(`${b}ln1.hook_normalized`, `[batch, pos, ${perHead}d_model]`);
    for (const x of ['q', 'k', 'v']) add(`${b}attn.hook_${x}`, '[batch, pos, head, d_head]');
    add(`${b}attn.hook_attn_scores`, '[batch, head, query, key]');
    add(`${b}attn.hook_pattern`, '[batch, head, query, key]');
    add(`${b}attn.hook_z`, '[batch, pos, head, d_head]');
    add(`${b}attn.hook_result`, '[batch, pos, head, d_model]');
    add(`${b}hook_attn_out`, '[batch, pos, d_model]');
    add(`${b}hook_resid_mid`, '[batch, pos, d_model]');
    if (!cfg.attnOnly) {
      if (opts.splitInputs) add(`${b}hook_mlp_in`, '[batch, pos, d_model]');
      add(`${b}ln2.hook_scale`, '[batch, pos, 1]');
      add(`${b}ln2.hook_normalized`, '[batch, pos, d_model]');
      add(`${b}mlp.hook_pre`, '[batch, pos, d_mlp]');
      add(`${b}mlp.hook_post`, '[batch, pos, d_mlp]');
      add(`${b}hook_mlp_out`, '[batch, pos, d_model]');
    }
    add(`${b}hook_resid_post`, '[batch, pos, d_model]');
  }
  add('ln_final.hook_scale', '[batch, pos, 1]');
  add('ln_final.hook_normalized', '[batch, pos, d_model]');
  return out;
}

const get = (p: Params, name: string): Tensor => param(p, name, 'GPT-2');

/** Columns [part·d_model, (part+1)·d_model) of c_attn (part 0 = q, 1 = k, 2 = v) as per-head weights [head, d_model, d_head]. */
function headWeights(cAttnW: Tensor, cAttnB: Tensor, part: number, cfg: ModelConfig): [Tensor, Tensor] {
  const { dModel: d, nHeads: h, dHead: dh } = cfg;
  const w = T.permute(T.slice(cAttnW, 1, part * d, (part + 1) * d).reshape(d, h, dh), [1, 0, 2]); // [head, d_model, d_head]
  const b = T.slice(cAttnB, 0, part * d, (part + 1) * d).reshape(h, dh); // [head, d_head]
  return [w, b];
}

/** q, k, v [batch, pos, head, d_head] from the block input, shared or (split inputs) one copy per head. */
function qkv(p: Params, cfg: ModelConfig, l: number, resid: Tensor, run: HookRun): [Tensor, Tensor, Tensor] {
  const [b, pos] = resid.shape as [number, number];
  const { dModel: d, nHeads: h, dHead: dh, normEps: eps } = cfg;
  const pre = `blocks.${l}.`;
  const wA = get(p, `h.${l}.attn.c_attn.weight`);
  const bA = get(p, `h.${l}.attn.c_attn.bias`);
  const lnW = get(p, `h.${l}.ln_1.weight`);
  const lnB = get(p, `h.${l}.ln_1.bias`);
  if (run.splitInputs) {
    return (['q', 'k', 'v'] as const).map((x, part) => {
      const input = run.apply(`${pre}hook_${x}_input`, repeatHeads(resid, h)); // [batch, pos, head, d_model]
      const normed = hookedLayerNorm(input, lnW, lnB, eps, `${pre}ln1.`, run); // [batch, pos, head, d_model]
      const [w, bias] = headWeights(wA, bA, part, cfg);
      return run.apply(`${pre}attn.hook_${x}`, perHeadLinear(normed, w, bias)); // [batch, pos, head, d_head]
    }) as [Tensor, Tensor, Tensor];
  }
  const normed = hookedLayerNorm(resid, lnW, lnB, eps, `${pre}ln1.`, run); // [batch, pos, d_model]
  const fused = T.linear(normed, wA, bA); // [batch, pos, 3·d_model]
  return (['q', 'k', 'v'] as const).map((x, part) =>
    run.apply(`${pre}attn.hook_${x}`, T.slice(fused, 2, part * d, (part + 1) * d).reshape(b, pos, h, dh)),
  ) as [Tensor, Tensor, Tensor];
}

function block(p: Params, cfg: ModelConfig, l: number, x: Tensor, run: HookRun): Tensor {
  const pre = `blocks.${l}.`;
  const h = `h.${l}.`;
  const residPre = run.apply(`${pre}hook_resid_pre`, x); // [batch, pos, d_model]
  const [q, k, v] = qkv(p, cfg, l, residPre, run);
  const z = attentionCore(q, k, v, `${pre}attn.`, run); // [batch, pos, head, d_head]
  const attnOut = run.apply(`${pre}hook_attn_out`, attentionOutput(z, get(p, `${h}attn.c_proj.weight`), get(p, `${h}attn.c_proj.bias`), `${pre}attn.`, run));
  const residMid = run.apply(`${pre}hook_resid_mid`, T.add(residPre, attnOut)); // [batch, pos, d_model]
  if (cfg.attnOnly) return run.apply(`${pre}hook_resid_post`, residMid);
  const mlpIn = run.splitInputs ? run.apply(`${pre}hook_mlp_in`, residMid.reshape(residMid.shape)) : residMid;
  const normed = hookedLayerNorm(mlpIn, get(p, `${h}ln_2.weight`), get(p, `${h}ln_2.bias`), cfg.normEps, `${pre}ln2.`, run);
  const hidden = run.apply(`${pre}mlp.hook_pre`, T.linear(normed, get(p, `${h}mlp.c_fc.weight`), get(p, `${h}mlp.c_fc.bias`))); // [batch, pos, d_mlp]
  const post = run.apply(`${pre}mlp.hook_post`, activation(cfg.actFn, cfg.name)(hidden)); // [batch, pos, d_mlp]
  const mlpOut = run.apply(`${pre}hook_mlp_out`, T.linear(post, get(p, `${h}mlp.c_proj.weight`), get(p, `${h}mlp.c_proj.bias`))); // [batch, pos, d_model]
  return run.apply(`${pre}hook_resid_post`, T.add(residMid, mlpOut));
}

function forward(p: Params, cfg: ModelConfig, tokens: IntTensor, run: HookRun): Tensor {
  const [b, pos] = tokens.shape as [number, number];
  const d = cfg.dModel;
  const wte = get(p, 'wte.weight'); // [d_vocab, d_model]
  const embed = run.apply('hook_embed', T.indexSelect(wte, 0, tokens)); // [batch, pos, d_model]
  const posRows = T.slice(get(p, 'wpe.weight'), 0, 0, pos).reshape(1, pos, d); // [1, pos, d_model]
  const posEmbed = run.apply('hook_pos_embed', T.broadcastTo(posRows, [b, pos, d])); // [batch, pos, d_model]
  let x = T.add(embed, posEmbed); // [batch, pos, d_model]
  for (let l = 0; l < cfg.nLayers; l++) x = block(p, cfg, l, x, run);
  const normed = hookedLayerNorm(x, get(p, 'ln_f.weight'), get(p, 'ln_f.bias'), cfg.normEps, 'ln_final.', run);
  const wU = cfg.tiedEmbeddings ? wte : get(p, 'lm_head.weight'); // [d_vocab, d_model]
  return T.linear(normed, wU, null, { transW: true }); // [batch, pos, d_vocab]
}

/** TransformerLens names for GPT-2's weights (computed views or copies of the checkpoint tensors). */
function tlWeight(p: Params, cfg: ModelConfig, name: string): Tensor | undefined {
  const { dModel: d, nHeads: h, dHead: dh } = cfg;
  if (name === 'W_E') return get(p, 'wte.weight'); // [d_vocab, d_model]
  if (name === 'W_pos') return get(p, 'wpe.weight'); // [n_ctx, d_model]
  if (name === 'W_U') return T.transpose(cfg.tiedEmbeddings ? get(p, 'wte.weight') : get(p, 'lm_head.weight')); // [d_model, d_vocab]
  const m = /^blocks\.(\d+)\.(attn|mlp)\.(\w+)$/.exec(name);
  if (!m || Number(m[1]) >= cfg.nLayers) return undefined;
  const hh = `h.${m[1]}.`;
  const qkvPart = { W_Q: 0, W_K: 1, W_V: 2, b_Q: 0, b_K: 1, b_V: 2 }[m[3] as 'W_Q'];
  if (m[2] === 'attn' && qkvPart !== undefined) {
    const [w, b] = headWeights(get(p, `${hh}attn.c_attn.weight`), get(p, `${hh}attn.c_attn.bias`), qkvPart, cfg);
    return m[3]!.startsWith('W') ? w : b; // [head, d_model, d_head] / [head, d_head]
  }
  if (m[2] === 'attn' && m[3] === 'W_O') return get(p, `${hh}attn.c_proj.weight`).reshape(h, dh, d); // [head, d_head, d_model]
  if (m[2] === 'attn' && m[3] === 'b_O') return get(p, `${hh}attn.c_proj.bias`); // [d_model]
  if (cfg.attnOnly || m[2] !== 'mlp') return undefined;
  const mlp: Record<string, string> = { W_in: 'c_fc.weight', b_in: 'c_fc.bias', W_out: 'c_proj.weight', b_out: 'c_proj.bias' };
  return mlp[m[3]!] ? get(p, `${hh}mlp.${mlp[m[3]!]}`) : undefined; // W_in [d_model, d_mlp], W_out [d_mlp, d_model]
}

/** config.json as Hugging Face writes it for GPT2LMHeadModel, plus circuitscope's `attn_only` when set. */
function configJson(cfg: ModelConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    n_layer: cfg.nLayers,
    n_head: cfg.nHeads,
    n_embd: cfg.dModel,
    n_positions: cfg.nCtx,
    n_ctx: cfg.nCtx,
    n_inner: cfg.attnOnly ? null : cfg.dMlp,
    vocab_size: cfg.dVocab,
    activation_function: cfg.actFn,
    layer_norm_epsilon: cfg.normEps,
    tie_word_embeddings: cfg.tiedEmbeddings,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenId,
    ...(cfg.attnOnly ? { attn_only: true } : {}),
  };
}

export const gpt2: Family = {
  name: 'gpt2',
  modelTypes: ['gpt2'],
  weightPrefixes: ['transformer.'],
  config,
  paramShapes,
  hooks,
  forward,
  tlWeight,
  configJson,
};
