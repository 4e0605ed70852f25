/** Model resolution: a local folder, or a Hugging Face hub id found in (or downloaded into) the HF cache. */
export { resolveModel, type ResolveOptions, type ResolvedModel } from './resolve.js';
export { hubCacheDir } from './cache.js';
export { inspectModelFolder, shardsOfIndex } from './folder.js';
