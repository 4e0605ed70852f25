/** Explicit broadcasting: `broadcastTo` copies a tensor out to a larger shape (gradient: sum back). */
import { CircuitscopeError } from '../../util/errors.js';
import { broadcastBinary, binaryLoop } from '../kernels.js';
import { type Shape, broadcastShapes, fmtShape, numel, sameShape } from '../shape.js';
import { Tensor, record } from '../tensor.js';
import { sumToShape } from './reduce.js';

const copyLoop = binaryLoop('x');
const NONE = new Float32Array(1);

/** `x` broadcast (NumPy rules) to `shape`, as a new contiguous tensor. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const b = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (!sameShape(b, shape)) {
    throw new CircuitscopeError(`broadcastTo: ${fmtShape(x.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  }
  const out = new Float32Array(numel(shape));
  broadcastBinary(copyLoop, out, shape, x.data, x.shape, NONE, []);
  return record(new Tensor(out, shape), 'broadcastTo', [x], (g) => [sumToShape(g, x.shape)]);
}
