/** The model layer's public surface: HookedTransformer, hooks, configs, families, loaders and tokenizers. */
export { HookedTransformer, type LoadOptions, type Fwd, type Metric, type GradientsResult } from './hooked-transformer.js';
export { ActivationCache, HookRun, type HookFn, type HookContext, type HookSpec, type NameFilter, type RunOptions } from './hooks.js';
export { type ModelConfig, RawConfig } from './config.js';
export { type Family, type Params, familyFor, familyByName } from './families/index.js';
export { initParams, sinusoidalPositions } from './init.js';
export { tokenBatch, type TokensInput } from './tokens.js';
export type { GenerateOptions, GenerateResult } from './generate.js';
export { resolveModel, hubCacheDir, type ResolveOptions, type ResolvedModel } from './hub/index.js';
export { loadTokenizer, integerTokenizer, gpt2Tokenizer, bpeFromFiles, bpeFromTokenizerJson, llama2cTokenizer, wordLevelTokenizer, wordLevelTokenizerJson, wordLevelFromTokenizerJson, type Tokenizer } from './tokenizers/index.js';
export { loadLlama2c, readLlama2c } from './llama2c.js';
export { saveModelFolder } from './save.js';
export { type LmBatch, type LmTrainOptions, type LmTrainResult, lmLrAt, scoredLoss, trainLm } from './training/trainer.js';
export { LM_CHECKPOINT_FILE, hasLmCheckpoint } from './training/checkpoint.js';
