/** circuitscope's library entry point. Later layers (model, tasks, dictionaries, discovery, eval) add their exports here. */
export * from './tensor/index.js';
export * as safetensors from './tensor/safetensors.js';
export { getBackend, createBackend } from './tensor/backend-select.js';
export type { Backend, BackendInfo, BackendName } from './tensor/backend.js';
export { CircuitscopeError } from './util/errors.js';
export { Rng } from './util/rng.js';
export * from './model/index.js';
export * from './tasks/index.js';
export * from './discovery/index.js';
export * from './eval/index.js';
export * from './zoo/index.js';
export { faithfulnessCurve, circuitFaithfulness, ranked, type FaithRun } from './eval/faithfulness-run.js';
export { collectActivations, ActivationShards, readManifest, type CollectOptions, type CollectResult, type StoreManifest, type StoreHook, type StoreSettings, type SourceOptions, type SourcePosition, type TokenSource } from './dictionaries/store/index.js';
export { analyseHeads, headAttribution, topFeaturesPerHead, polysemanticityCensus, decoderRoles, sourceRoles, sourceProfiles, featureFrequencies, directFeatureAttribution, dfaByHead, featureDfa, readSaeFolder, saeTensorsOf, type SaeTensors, type Census, type HeadCensus, type HeadAnalysis, type RankedFeature, type RoleRule, type FeatureDfa } from './dictionaries/attn/index.js';
export * from './dictionaries/sae/index.js';
