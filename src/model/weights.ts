/**
 * Reads a model's weights from one or more safetensors shards, one tensor at a time straight into its
 * own Float32Array (F16/BF16 are widened in 1 MiB chunks), so loading never holds a second copy of the
 * weights: peak memory ≈ the float32 weights themselves.
 */
import { CircuitscopeError } from '../util/errors.js';
import { Tensor, fmtShape, sameShape } from '../tensor/index.js';
import { openSafetensors, type SafetensorsFile } from '../tensor/safetensors.js';

export class WeightSource {
  private readonly files: SafetensorsFile[] = [];
  /** Tensor name (with known prefixes stripped) → the shard holding it and its stored name. */
  private readonly index = new Map<string, { file: SafetensorsFile; stored: string }>();

  /** `prefixes` are stripped from stored names, e.g. 'transformer.' for GPT2LMHeadModel checkpoints. */
  constructor(paths: readonly string[], prefixes: readonly string[] = []) {
    if (paths.length === 0) throw new CircuitscopeError('no weight files given', 'a model folder needs model.safetensors or a sharded model.safetensors.index.json');
    try {
      for (const p of paths) {
        const f = openSafetensors(p);
        this.files.push(f);
        for (const stored of f.names()) {
          const pre = prefixes.find((x) => stored.startsWith(x));
          const name = pre ? stored.slice(pre.length) : stored;
          if (!this.index.has(name)) this.index.set(name, { file: f, stored });
        }
      }
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get label(): string {
    return this.files.length === 1 ? this.files[0]!.label : `${this.files[0]!.label} (+${this.files.length - 1} shards)`;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  names(): string[] {
    return [...this.index.keys()];
  }

  /** The tensor `name` as float32, checked against `shape`. */
  read(name: string, shape: readonly number[]): Tensor {
    const e = this.index.get(name);
    if (!e) {
      throw new CircuitscopeError(`${this.label}: missing weight "${name}"`, `the file has ${this.names().slice(0, 6).join(', ')}${this.index.size > 6 ? ', …' : ''}; is it the checkpoint of this config.json?`);
    }
    const info = e.file.info(e.stored);
    if (!sameShape(info.shape, shape)) {
      throw new CircuitscopeError(`${this.label}: weight "${name}" has shape ${fmtShape(info.shape)}, but config.json implies ${fmtShape(shape)}`, 'config.json and the weights do not belong together');
    }
    return new Tensor(e.file.readF32(e.stored), shape);
  }

  close(): void {
    for (const f of this.files) f.close();
    this.files.length = 0;
  }
}
