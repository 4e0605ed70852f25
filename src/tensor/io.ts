/** Tensors to and from safetensors files: the glue between the file format and the Tensor type. */
import { CircuitscopeError } from '../util/errors.js';
import { openSafetensors, writeSafetensors, type TensorInput } from './safetensors.js';
import { IntTensor, Tensor } from './tensor.js';
import { toInt32Array } from './safetensors-dtypes.js';

export interface LoadedTensors {
  /** Float tensors (F32/F16/BF16/F64, converted to float32). */
  floats: Map<string, Tensor>;
  /** Integer tensors (I64/I32/…, converted to int32 with a clear error if a value does not fit). */
  ints: Map<string, IntTensor>;
  metadata: Record<string, string> | undefined;
}

/** Reads every tensor of a safetensors file, one at a time (never the whole file at once). */
export function loadTensors(file: string, opts: { names?: readonly string[] } = {}): LoadedTensors {
  const st = openSafetensors(file);
  try {
    const floats = new Map<string, Tensor>();
    const ints = new Map<string, IntTensor>();
    for (const name of opts.names ?? st.names()) {
      if (!st.has(name)) throw new CircuitscopeError(`${st.label}: no tensor named "${name}"`, `it has ${st.names().slice(0, 8).join(', ')}${st.names().length > 8 ? ', …' : ''}`);
      const t = st.read(name);
      if (t.data instanceof Float32Array) floats.set(name, new Tensor(t.data, t.shape));
      else if (t.data instanceof Float64Array) floats.set(name, new Tensor(Float32Array.from(t.data), t.shape));
      else ints.set(name, new IntTensor(toInt32Array(t.data, `${st.label}: tensor "${name}"`), t.shape));
    }
    return { floats, ints, metadata: st.metadata };
  } finally {
    st.close();
  }
}

/** Writes float tensors (F32, or F16/BF16 on request) and int tensors (I32) atomically. */
export function saveTensors(
  file: string,
  tensors: Record<string, Tensor | IntTensor> | Map<string, Tensor | IntTensor>,
  opts: { metadata?: Record<string, string>; dtype?: 'F32' | 'F16' | 'BF16' } = {},
): void {
  const out = new Map<string, TensorInput>();
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of entries) {
    out.set(name, t instanceof Tensor ? { dtype: opts.dtype ?? 'F32', shape: [...t.shape], data: t.data } : { shape: [...t.shape], data: t.data });
  }
  writeSafetensors(file, out, opts.metadata);
}
