/** The tensor layer's public surface: tensors, autograd, ops, optimisers, safetensors, backends. */
export { Tensor, IntTensor, tensor, scalar, zeros, ones, full, randn, rand, arange, intTensor, noGrad, withGradMode, isGradEnabled, record } from './tensor.js';
export type { GradNode } from './tensor.js';
export { backward, grad, tape } from './autograd.js';
export { type Shape, numel, fmtShape, sameShape } from './shape.js';
export * from './ops/elementwise.js';
export { sum, mean, max, min, argmax, sumToShape } from './ops/reduce.js';
export { broadcastTo } from './ops/broadcast.js';
export { matmul, linear, type MatmulOptions } from './ops/matmul.js';
export { softmax, logSoftmax, layerNorm, rmsNorm, causalMask } from './ops/nn.js';
export { mseLoss, crossEntropy } from './ops/loss.js';
export { permute, transpose, slice, concat, stack, unsqueeze, squeeze, flatten } from './ops/layout.js';
export { indexSelect, gather, where, topk } from './ops/indexing.js';
export { headScores, headMix } from './ops/attention.js';
export { Adam, AdamW, type AdamOptions, type AdamState } from './optim.js';
export { loadTensors, saveTensors, type LoadedTensors } from './io.js';
