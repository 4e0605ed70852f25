/** Elementwise ops with NumPy broadcasting: add/sub/mul/div/pow/maximum and the unary activations. */
import { getBackend } from '../backend-select.js';
import { broadcastBinary, binaryLoop, gradLoop, unaryLoop, type BinaryLoop, type GradLoop, type UnaryLoop } from '../kernels.js';
import { broadcastShapes, numel, sameShape } from '../shape.js';
import { Tensor, record, scalar } from '../tensor.js';
import { sumToShape } from './reduce.js';

export type Operand = Tensor | number;

const asTensor = (v: Operand): Tensor => (typeof v === 'number' ? scalar(v) : v);

/** loop(a, b) over the broadcast of the two shapes, as a new (unrecorded) tensor. */
function binary(loop: BinaryLoop, a: Tensor, b: Tensor, op: string): Tensor {
  const shape = sameShape(a.shape, b.shape) ? a.shape : broadcastShapes(a.shape, b.shape, op);
  const out = new Float32Array(numel(shape));
  if (shape === a.shape) loop(out, 0, a.data, 0, 1, b.data, 0, 1, out.length);
  else broadcastBinary(loop, out, shape, a.data, a.shape, b.data, b.shape);
  return new Tensor(out, shape);
}

const L = {
  add: binaryLoop('x + y'),
  sub: binaryLoop('x - y'),
  mul: binaryLoop('x * y'),
  div: binaryLoop('x / y'),
  max: binaryLoop('x !== x || y !== y ? NaN : x >= y ? x : y'),
  geMask: binaryLoop('x >= y ? 1 : 0'),
  ltMask: binaryLoop('x < y ? 1 : 0'),
  negDiv: binaryLoop('-x / y'),
};

export function add(a: Operand, b: Operand): Tensor {
  const [x, y] = [asTensor(a), asTensor(b)];
  const out = binary(L.add, x, y, 'add');
  return record(out, 'add', [x, y], (g) => [x.requiresGrad ? sumToShape(g, x.shape) : null, y.requiresGrad ? sumToShape(g, y.shape) : null]);
}

export function sub(a: Operand, b: Operand): Tensor {
  const [x, y] = [asTensor(a), asTensor(b)];
  const out = binary(L.sub, x, y, 'sub');
  return record(out, 'sub', [x, y], (g) => [x.requiresGrad ? sumToShape(g, x.shape) : null, y.requiresGrad ? sumToShape(neg(g), y.shape) : null]);
}

export function mul(a: Operand, b: Operand): Tensor {
  const [x, y] = [asTensor(a), asTensor(b)];
  const out = binary(L.mul, x, y, 'mul');
  return record(out, 'mul', [x, y], (g) => [
    x.requiresGrad ? sumToShape(mul(g, y), x.shape) : null,
    y.requiresGrad ? sumToShape(mul(g, x), y.shape) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  const [x, y] = [asTensor(a), asTensor(b)];
  const out = binary(L.div, x, y, 'div');
  return record(out, 'div', [x, y], (g) => [
    x.requiresGrad ? sumToShape(div(g, y), x.shape) : null,
    // d(x/y)/dy = -x/y² = -out/y
    y.requiresGrad ? sumToShape(binary(L.negDiv, mul(g, out), y, 'div'), y.shape) : null,
  ]);
}

/** Elementwise maximum; where equal the gradient goes to `a`. */
export function maximum(a: Operand, b: Operand): Tensor {
  const [x, y] = [asTensor(a), asTensor(b)];
  const out = binary(L.max, x, y, 'maximum');
  return record(out, 'maximum', [x, y], (g) => {
    const pickA = binary(L.geMask, x, y, 'maximum');
    const pickB = binary(L.ltMask, x, y, 'maximum');
    return [x.requiresGrad ? sumToShape(mul(g, pickA), x.shape) : null, y.requiresGrad ? sumToShape(mul(g, pickB), y.shape) : null];
  });
}

// ---- unary ----------------------------------------------------------------------------------

interface UnaryDef {
  fwd: UnaryLoop;
  /** Backward in terms of g (upstream gradient), x (input), y (output). */
  bwd: GradLoop;
}

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_PRE = `const u = ${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x); const t = Math.tanh(u);`;

const U: Record<string, UnaryDef> = {
  neg: { fwd: unaryLoop('-x'), bwd: gradLoop('-g') },
  exp: { fwd: unaryLoop('Math.exp(x)'), bwd: gradLoop('g * y') },
  log: { fwd: unaryLoop('Math.log(x)'), bwd: gradLoop('g / x') },
  sqrt: { fwd: unaryLoop('Math.sqrt(x)'), bwd: gradLoop('g * 0.5 / y') },
  rsqrt: { fwd: unaryLoop('1 / Math.sqrt(x)'), bwd: gradLoop('-0.5 * g * y / x') },
  square: { fwd: unaryLoop('x * x'), bwd: gradLoop('2 * g * x') },
  abs: { fwd: unaryLoop('Math.abs(x)'), bwd: gradLoop('x > 0 ? g : x < 0 ? -g : 0') },
  relu: { fwd: unaryLoop('x > 0 ? x : 0'), bwd: gradLoop('x > 0 ? g : 0') },
  tanh: { fwd: unaryLoop('Math.tanh(x)'), bwd: gradLoop('g * (1 - y * y)') },
  sigmoid: { fwd: unaryLoop('1 / (1 + Math.exp(-x))'), bwd: gradLoop('g * y * (1 - y)') },
  // HF "gelu_new" / GPT-2: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  gelu: {
    fwd: unaryLoop('0.5 * x * (1 + t)', GELU_PRE),
    bwd: gradLoop(`g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * ${SQRT_2_OVER_PI} * (1 + 0.134145 * x * x))`, GELU_PRE),
  },
};

function unary(name: keyof typeof U, x: Tensor): Tensor {
  const def = U[name]!;
  const out = new Float32Array(x.size);
  def.fwd(out, x.data, out.length);
  const y = new Tensor(out, x.shape);
  return record(y, name, [x], (g) => {
    const gx = new Float32Array(x.size);
    def.bwd(gx, g.data, x.data, y.data, gx.length);
    return [new Tensor(gx, x.shape)];
  });
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** GELU, tanh approximation (GPT-2's and Hugging Face's "gelu_new"); native kernels when the backend has them. */
export function gelu(x: Tensor): Tensor {
  const ew = getBackend().elementwise;
  if (!ew) return unary('gelu', x);
  const out = new Float32Array(x.size);
  ew.geluForward(x.data, out);
  return record(new Tensor(out, x.shape), 'gelu', [x], (g) => {
    const gx = new Float32Array(x.size);
    ew.geluBackward(g.data, x.data, gx);
    return [new Tensor(gx, x.shape)];
  });
}

/** x^p for a constant exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = Math.pow(x.data[i]!, p);
  return record(new Tensor(out, x.shape), 'pow', [x], (g) => {
    const gx = new Float32Array(x.size);
    for (let i = 0; i < gx.length; i++) gx[i] = g.data[i]! * p * Math.pow(x.data[i]!, p - 1);
    return [new Tensor(gx, x.shape)];
  });
}
