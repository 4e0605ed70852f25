/**
 * Llama (pre-RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention, no biases) in Hugging
 * Face's checkpoint layout: every projection is a torch Linear stored [out, in], applied as x·Wᵀ.
 *
 * Conventions (see also src/model/llama2c.ts):
 * - Rotary: HF's "rotate half" layout (dims i and i + d_head/2 pair up), which is what HF checkpoints
 *   and TransformerLens's Llama use; llama2.c checkpoints are converted to it when read.
 * - Grouped KV heads: attn.hook_k, hook_v and hook_rot_k are [batch, pos, kv_head, d_head] (TransformerLens ≥ 2
 *   with ungroup_grouped_query_attention off); they are repeated to all heads only inside the attention core.
 * - RMSNorm hooks: hook_scale = √(mean(x²) + eps) [..., 1]; hook_normalized = x / scale · w, the tensor
 *   the sublayer reads (the same choice as this repository's GPT-2 LayerNorm hooks).
 */
import * as T from '../../tensor/index.js';
import type { IntTensor, Tensor } from '../../tensor/index.js';
import { type ModelConfig, type RawConfig, validateConfig } from '../config.js';
import { CircuitscopeError } from '../../util/errors.js';
import type { HookRun, HookSpec } from '../hooks.js';
import { activation, attentionCore, attentionOutput, hookedRmsNorm, perHeadLinear, repeatHeads, repeatKvHeads, rotary } from '../components.js';
import { type Family, type Params, param } from './family.js';

function config(raw: RawConfig, name: string): ModelConfig {
  const unsupported = (what: string, hint: string): never => {
    throw new CircuitscopeError(`${raw.source}: ${what} is not supported`, hint);
  };
  if (raw.has('rope_scaling')) unsupported('rope_scaling', 'only plain RoPE (Llama 1/2, TinyLlama, stories*) is implemented');
  if (raw.bool('attention_bias', false) || raw.bool('mlp_bias', false)) unsupported('a Llama with biases', 'only bias-free Llama checkpoints are implemented');
  const dModel = raw.int(['hidden_size']);
  const nHeads = raw.int(['num_attention_heads']);
  return validateConfig({
    family: 'llama',
    modelType: raw.str('model_type', 'llama'),
    name,
    nLayers: raw.int(['num_hidden_layers']),
    nHeads,
    nKvHeads: raw.int(['num_key_value_heads'], nHeads),
    dModel,
    dHead: raw.int(['head_dim'], Math.floor(dModel / nHeads)),
    dMlp: raw.int(['intermediate_size']),
    nCtx: raw.int(['max_position_embeddings']),
    dVocab: raw.int(['vocab_size']),
    actFn: raw.str('hidden_act', 'silu'),
    normEps: raw.num('rms_norm_eps', 1e-6),
    tiedEmbeddings: raw.bool('tie_word_embeddings', false),
    attnOnly: false,
    bosTokenId: raw.tokenId('bos_token_id'),
    eosTokenId: raw.tokenId('eos_token_id'),
    ropeTheta: raw.num('rope_theta', 10000),
  }, raw.source);
}

function paramShapes(cfg: ModelConfig): Map<string, number[]> {
  const { dModel: d, dMlp: m, dVocab: v, nHeads: h, nKvHeads: kv, dHead: dh } = cfg;
  const s = new Map<string, number[]>([['model.embed_tokens.weight', [v, d]]]);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `model.layers.${l}.`;
    s.set(`${p}input_layernorm.weight`, [d]);
    s.set(`${p}self_attn.q_proj.weight`, [h * dh, d]);
    s.set(`${p}self_attn.k_proj.weight`, [kv * dh, d]);
    s.set(`${p}self_attn.v_proj.weight`, [kv * dh, d]);
    s.set(`${p}self_attn.o_proj.weight`, [d, h * dh]);
    s.set(`${p}post_attention_layernorm.weight`, [d]);
    s.set(`${p}mlp.gate_proj.weight`, [m, d]);
    s.set(`${p}mlp.up_proj.weight`, [m, d]);
    s.set(`${p}mlp.down_proj.weight`, [d, m]);
  }
  s.set('model.norm.weight', [d]);
  if (!cfg.tiedEmbeddings) s.set('lm_head.weight', [v, d]);
  return s;
}

/**
 * Every hook point, in forward order. With split inputs, hook_q_input is [batch, pos, head, d_model] and
 * hook_k_input/hook_v_input [batch, pos, kv_head, d_model]; ln1 then runs once per input, and its cached
 * hook_scale/hook_normalized are the value input's ([batch, pos, kv_head, …]).
 */
function hooks(cfg: ModelConfig, opts: { splitInputs?: boolean } = {}): HookSpec[] {
  const out: HookSpec[] = [{ name: 'hook_embed', shape: '[batch, pos, d_model]' }];
  const add = (name: string, shape: string): void => void out.push({ name, shape });
  const split = !!opts.splitInputs;
  for (let l = 0; l < cfg.nLayers; l++) {
    const b = `blocks.${l}.`;
    add(`${b}hook_resid_pre`, '[batch, pos, d_model]');
    if (split) {
      add(`${b}hook_q_input`, '[batch, pos, head, d_model]');
      add(`${b}hook_k_input`, '[batch, pos, kv_head, d_model]');
      add(`${b}hook_v_input`, '[batch, pos, kv_head, d_model]');
    }
    add(`${b}ln1.hook_scale`, split ? '[batch, pos, kv_head, 1]' : '[batch, pos, 1]');
    add(`${b}ln1.hook_normalized`, split ? '[batch, pos, kv_head, d_model]' : '[batch, pos, d_model]');
    add(`${b}attn.hook_q`, '[batch, pos, head, d_head]');
    add(`${b}attn.hook_k`, '[batch, pos, kv_head, d_head]');
    add(`${b}attn.hook_v`, '[batch, pos, kv_head, d_head]');
    add(`${b}attn.hook_rot_q`, '[batch, pos, head, d_head]');
    add(`${b}attn.hook_rot_k`, '[batch, pos, kv_head, d_head]');
    add(`${b}attn.hook_attn_scores`, '[batch, head, query, key]');
    add(`${b}attn.hook_pattern`, '[batch, head, query, key]');
    add(`${b}attn.hook_z`, '[batch, pos, head, d_head]');
    add(`${b}attn.hook_result`, '[batch, pos, head, d_model]');
    add(`${b}hook_attn_out`, '[batch, pos, d_model]');
    add(`${b}hook_resid_mid`, '[batch, pos, d_model]');
    if (split) add(`${b}hook_mlp_in`, '[batch, pos, d_model]');
    add(`${b}ln2.hook_scale`, '[batch, pos, 1]');
    add(`${b}ln2.hook_normalized`, '[batch, pos, d_model]');
    add(`${b}mlp.hook_pre`, '[batch, pos, d_mlp]');
    add(`${b}mlp.hook_pre_linear`, '[batch, pos, d_mlp]');
    add(`${b}mlp.hook_post`, '[batch, pos, d_mlp]');
    add(`${b}hook_mlp_out`, '[batch, pos, d_model]');
    add(`${b}hook_resid_post`, '[batch, pos, d_model]');
  }
  add('ln_final.hook_scale', '[batch, pos, 1]');
  add('ln_final.hook_normalized', '[batch, pos, d_model]');
  return out;
}

const get = (p: Params, name: string): Tensor => param(p, name, 'Llama');

/** A projection stored [heads·d_head, d_model] as per-head weights [heads, d_model, d_head] (TransformerLens's W_Q layout). */
function headWeights(w: Tensor, heads: number, dHead: number): Tensor {
  return T.permute(w.reshape(heads, dHead, w.shape[1]!), [0, 2, 1]); // [heads, d_model, d_head]
}

/** q [batch, pos, head, d_head] and k, v [batch, pos, kv_head, d_head] from the block input, shared or (split inputs) one copy per head. */
function qkv(p: Params, cfg: ModelConfig, l: number, resid: Tensor, run: HookRun): [Tensor, Tensor, Tensor] {
  const [b, pos] = resid.shape as [number, number];
  const { nHeads: h, nKvHeads: kv, dHead: dh, normEps: eps } = cfg;
  const pre = `blocks.${l}.`;
  const lnW = get(p, `model.layers.${l}.input_layernorm.weight`); // [d_model]
  const parts = [['q', h], ['k', kv], ['v', kv]] as const;
  const weight = (x: string): Tensor => get(p, `model.layers.${l}.self_attn.${x}_proj.weight`); // [heads·d_head, d_model]
  if (run.splitInputs) {
    return parts.map(([x, heads]) => {
      const input = run.apply(`${pre}hook_${x}_input`, repeatHeads(resid, heads)); // [batch, pos, heads, d_model]
      const normed = hookedRmsNorm(input, lnW, eps, `${pre}ln1.`, run); // [batch, pos, heads, d_model]
      return run.apply(`${pre}attn.hook_${x}`, perHeadLinear(normed, headWeights(weight(x), heads, dh), null)); // [batch, pos, heads, d_head]
    }) as [Tensor, Tensor, Tensor];
  }
  const normed = hookedRmsNorm(resid, lnW, eps, `${pre}ln1.`, run); // [batch, pos, d_model]
  return parts.map(([x, heads]) =>
    run.apply(`${pre}attn.hook_${x}`, T.linear(normed, weight(x), null, { transW: true }).reshape(b, pos, heads, dh)), // [batch, pos, heads, d_head]
  ) as [Tensor, Tensor, Tensor];
}

function block(p: Params, cfg: ModelConfig, l: number, x: Tensor, run: HookRun): Tensor {
  const pre = `blocks.${l}.`;
  const w = (name: string): Tensor => get(p, `model.layers.${l}.${name}.weight`);
  const theta = cfg.ropeTheta ?? 10000;
  const groups = cfg.nHeads / cfg.nKvHeads;
  const residPre = run.apply(`${pre}hook_resid_pre`, x); // [batch, pos, d_model]
  const [q, k, v] = qkv(p, cfg, l, residPre, run);
  const rq = run.apply(`${pre}attn.hook_rot_q`, rotary(q, theta)); // [batch, pos, head, d_head]
  const rk = run.apply(`${pre}attn.hook_rot_k`, rotary(k, theta)); // [batch, pos, kv_head, d_head]
  const z = attentionCore(rq, repeatKvHeads(rk, groups), repeatKvHeads(v, groups), `${pre}attn.`, run); // [batch, pos, head, d_head]
  const attnOut = run.apply(`${pre}hook_attn_out`, attentionOutput(z, w('self_attn.o_proj'), null, `${pre}attn.`, run, { transW: true })); // [batch, pos, d_model]
  const residMid = run.apply(`${pre}hook_resid_mid`, T.add(residPre, attnOut)); // [batch, pos, d_model]
  const mlpIn = run.splitInputs ? run.apply(`${pre}hook_mlp_in`, residMid.reshape(residMid.shape)) : residMid; // [batch, pos, d_model]
  const normed = hookedRmsNorm(mlpIn, w('post_attention_layernorm'), cfg.normEps, `${pre}ln2.`, run); // [batch, pos, d_model]
  const gate = run.apply(`${pre}mlp.hook_pre`, T.linear(normed, w('mlp.gate_proj'), null, { transW: true })); // [batch, pos, d_mlp]
  const up = run.apply(`${pre}mlp.hook_pre_linear`, T.linear(normed, w('mlp.up_proj'), null, { transW: true })); // [batch, pos, d_mlp]
  const post = run.apply(`${pre}mlp.hook_post`, T.mul(activation(cfg.actFn, cfg.name)(gate), up)); // [batch, pos, d_mlp]
  const mlpOut = run.apply(`${pre}hook_mlp_out`, T.linear(post, w('mlp.down_proj'), null, { transW: true })); // [batch, pos, d_model]
  return run.apply(`${pre}hook_resid_post`, T.add(residMid, mlpOut)); // [batch, pos, d_model]
}

function forward(p: Params, cfg: ModelConfig, tokens: IntTensor, run: HookRun): Tensor {
  const wE = get(p, 'model.embed_tokens.weight'); // [d_vocab, d_model]
  let x = run.apply('hook_embed', T.indexSelect(wE, 0, tokens)); // [batch, pos, d_model]
  for (let l = 0; l < cfg.nLayers; l++) x = block(p, cfg, l, x, run);
  const normed = hookedRmsNorm(x, get(p, 'model.norm.weight'), cfg.normEps, 'ln_final.', run); // [batch, pos, d_model]
  const wU = cfg.tiedEmbeddings ? wE : get(p, 'lm_head.weight'); // [d_vocab, d_model]
  return T.linear(normed, wU, null, { transW: true }); // [batch, pos, d_vocab]
}

/**
 * TransformerLens names for Llama's weights. W_K/W_V are repeated to all heads as TransformerLens's
 * GroupedQueryAttention properties return them; biases are zeros (Llama has none).
 */
function tlWeight(p: Params, cfg: ModelConfig, name: string): Tensor | undefined {
  const { dModel: d, nHeads: h, nKvHeads: kv, dHead: dh, dMlp: m } = cfg;
  if (name === 'W_E') return get(p, 'model.embed_tokens.weight'); // [d_vocab, d_model]
  if (name === 'W_U') return T.transpose(get(p, cfg.tiedEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight')); // [d_model, d_vocab]
  const match = /^blocks\.(\d+)\.(attn|mlp)\.(\w+)$/.exec(name);
  if (!match || Number(match[1]) >= cfg.nLayers) return undefined;
  const pre = `model.layers.${match[1]}.`;
  const key = `${match[2]}.${match[3]}`;
  const kvWeight = (x: string): Tensor => {
    const w = headWeights(get(p, `${pre}self_attn.${x}_proj.weight`), kv, dh); // [kv_head, d_model, d_head]
    return repeatKvHeads(w.reshape(1, 1, kv, d * dh), h / kv).reshape(h, d, dh); // [head, d_model, d_head]
  };
  switch (key) {
    case 'attn.W_Q': return headWeights(get(p, `${pre}self_attn.q_proj.weight`), h, dh); // [head, d_model, d_head]
    case 'attn.W_K': return kvWeight('k');
    case 'attn.W_V': return kvWeight('v');
    case 'attn.W_O': return T.permute(get(p, `${pre}self_attn.o_proj.weight`).reshape(d, h, dh), [1, 2, 0]); // [head, d_head, d_model]
    case 'attn.b_Q': case 'attn.b_K': case 'attn.b_V': return T.zeros([h, dh]);
    case 'attn.b_O': case 'mlp.b_out': return T.zeros([d]);
    case 'mlp.b_in': return T.zeros([m]);
    case 'mlp.W_in': return T.transpose(get(p, `${pre}mlp.up_proj.weight`)); // [d_model, d_mlp]
    case 'mlp.W_gate': return T.transpose(get(p, `${pre}mlp.gate_proj.weight`)); // [d_model, d_mlp]
    case 'mlp.W_out': return T.transpose(get(p, `${pre}mlp.down_proj.weight`)); // [d_mlp, d_model]
    default: return undefined;
  }
}

export const llama: Family = {
  name: 'llama',
  modelTypes: ['llama'],
  weightPrefixes: [],
  config,
  paramShapes,
  hooks,
  forward,
  tlWeight,
};
