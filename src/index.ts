/** circuitscope's library entry point. Later layers (model, tasks, dictionaries, discovery, eval) add their exports here. */
export * from './tensor/index.js';
export * as safetensors from './tensor/safetensors.js';
export { getBackend, createBackend } from './tensor/backend-select.js';
export type { Backend, BackendInfo, BackendName } from './tensor/backend.js';
export { CircuitscopeError } from './util/errors.js';
export { Rng } from './util/rng.js';
export * from './model/index.js';
