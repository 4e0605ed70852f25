/** The discovery layer: graph, ablations, patching, and the methods registry keyed by CLI name. */
import { CircuitscopeError } from '../util/errors.js';
import type { DiscoveryMethod } from './types.js';
import { exactNode } from './exact-node.js';
import { exactEdge } from './exact-edge.js';
import { acdc } from './acdc.js';
import { eap } from './eap.js';
import { eapIg } from './eap-ig.js';
import { headAblation } from './head-ablation.js';
import { attnSae } from './attn-sae.js';
import { transcoder } from './transcoder.js';
import { saeCodes } from './sae-codes.js';
import { circuitLasso } from './circuit-lasso.js';

export const METHODS: ReadonlyMap<string, DiscoveryMethod> = new Map([exactNode, exactEdge, acdc, eap, eapIg, headAblation, saeCodes, transcoder, circuitLasso, attnSae].map((m) => [m.name, m]));

export function methodByName(name: string): DiscoveryMethod {
  const m = METHODS.get(name);
  if (!m) throw new CircuitscopeError(`unknown method "${name}"`, `methods: ${[...METHODS.keys()].join(', ')}`);
  return m;
}

export * from './types.js';
export * from './method-options.js';
export * from './graph.js';
export { ABLATIONS, ablatedRows, checkAblation, derangement } from './ablation.js';
export { Patcher, type EdgeMask, emptyMask, maskOf, edgeIndex, receiverHook } from './patching.js';
export { senderRows, senderHooks, senderHook } from './activations.js';
export { prepare, checkMetric, logitMargin, METRICS, type Setup } from './setup.js';
export { acdcRun, type AcdcRun } from './acdc.js';
export { attentionPatterns, previousTokenScores, inductionScores, duplicateTokenScores, meanAttention } from './attention-scores.js';
export { exactNode, exactEdge, acdc, eap, eapIg, headAblation };
export { attnSae, runAttnSae, hookZScales, ATTN_SAE_COEF, ATTN_SAE_SELECT, ATTN_SAE_EFFECTS, ATTN_SAE_POSITIONS } from './attn-sae.js';
export { transcoder, transcoderSettings, type TranscoderMethodSettings } from './transcoder.js';
export * as transcoderCircuits from './transcoder/index.js';
export { saeCodes, runSaeCodes, saeCodesSettings, componentMeans, type SaeCodesSettings } from './sae-codes.js';
export { trainCodeSae, encodeCodes, initCodeSae, codeSaeGradients, CODE_SAE_DEFAULTS, type CodeSaeOptions, type CodeSaeResult, type EncoderWork } from './sae-codes-sae.js';
export { positiveOnlyCounts, positiveOnlyPairCounts, rankedPairs, pairNodeScores, thresholdSweep, meanStd, softmax as softmaxScores, type SweepPoint, type PairScore } from './sae-codes-score.js';
export { circuitLasso, fitCircuitLasso, structurePath, pathMass, type LassoFit, type LassoFitOptions } from './circuit-lasso.js';
export { fista, type LassoData, type FistaOptions, type FistaResult } from './lasso/fista.js';
export { fistaPath, lambdaMax, geometricPath } from './lasso/path.js';
export { coordinateDescent } from './lasso/coordinate-descent.js';
