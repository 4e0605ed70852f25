/**
 * The native backends: `build/Release/circuitscope_native.node` (built by scripts/build-native.mjs
 * from binding.gyp + native/*.cc) driven either through OpenBLAS or through its own portable blocked
 * kernel. Arguments are validated in TypeScript first (gemm-args.ts); the data never passes through JS.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../util/package.js';
import type { Backend, BackendInfo, ElementwiseKernels, SgemmArgs, SgemmBatchedArgs } from './backend.js';
import { validateSgemm, validateSgemmBatched, validateThreads } from './gemm-args.js';

export type NativeKernel = 'openblas' | 'portable';

export interface NativeInfo {
  kernel: NativeKernel;
  threads: number;
  defaultThreads: number;
  /** Whether the addon was linked against OpenBLAS. */
  openblas: boolean;
  /** `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"; "" without OpenBLAS. */
  openblasConfig: string;
  openblasCore: string;
  /** Micro-kernel of the portable GEMM on this CPU: "avx512" | "avx2" | "generic". */
  portableIsa: string;
  peakIsa: string;
  compiledWith: string[];
  cpu: Record<string, boolean>;
}

/** The raw addon exports (row-major; offsets, leading dims and strides in elements). */
export interface NativeAddon {
  sgemm: Backend['sgemm'];
  sgemmStridedBatched: Backend['sgemmStridedBatched'];
  setThreads(n: number): void;
  getThreads(): number;
  setKernel(kernel: NativeKernel): void;
  getKernel(): NativeKernel;
  /** Forces the portable micro-kernel ('avx512' | 'avx2' | 'generic' | 'best'); for tests. Throws if the CPU lacks it. */
  setPortableIsa(isa: string): void;
  info(): NativeInfo;
  peakGflops(seconds: number, threads?: number): number;
  geluForward: ElementwiseKernels['geluForward'];
  normForward: ElementwiseKernels['normForward'];
  normBackward: ElementwiseKernels['normBackward'];
  softmaxForward: ElementwiseKernels['softmaxForward'];
  softmaxBackward: ElementwiseKernels['softmaxBackward'];
  geluBackward: ElementwiseKernels['geluBackward'];
  adamUpdate: ElementwiseKernels['adamUpdate'];
}

export type NativeLoad = { addon: NativeAddon; error?: undefined } | { addon?: undefined; error: string };

let loaded: NativeLoad | undefined;

/** Loads the addon once per module instance; never throws — a failure comes back as a one-line reason. */
export function loadNative(): NativeLoad {
  if (loaded) return loaded;
  let root: string;
  try {
    root = packageRoot();
  } catch (e) {
    loaded = { error: (e as Error).message };
    return loaded;
  }
  const file = path.join(root, 'build', 'Release', 'circuitscope_native.node');
  if (!existsSync(file)) {
    loaded = { error: `${path.relative(process.cwd(), file) || file} not built` };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    loaded = { addon };
  } catch (e) {
    loaded = { error: `loading ${file} failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
  return loaded;
}

/** The kernel the addon is currently set to (process-wide); backends switch it lazily before each call. */
let currentKernel: NativeKernel | undefined;

export class NativeBackend implements Backend {
  readonly name: NativeKernel;
  private readonly addon: NativeAddon;
  private readonly fallbackReason: string | undefined;
  readonly elementwise: ElementwiseKernels;

  constructor(addon: NativeAddon, kernel: NativeKernel, fallbackReason?: string) {
    this.addon = addon;
    this.elementwise = {
      geluForward: addon.geluForward, geluBackward: addon.geluBackward, adamUpdate: addon.adamUpdate,
      normForward: addon.normForward, normBackward: addon.normBackward,
      softmaxForward: addon.softmaxForward, softmaxBackward: addon.softmaxBackward,
    };
    this.name = kernel;
    this.fallbackReason = fallbackReason;
    addon.setKernel(kernel);  // throws if this build has no OpenBLAS
    currentKernel = kernel;
  }

  private use(): NativeAddon {
    if (currentKernel !== this.name) {
      this.addon.setKernel(this.name);
      currentKernel = this.name;
    }
    return this.addon;
  }

  sgemm(...args: SgemmArgs): void {
    validateSgemm(...args);
    this.use().sgemm(...args);
  }

  sgemmStridedBatched(...args: SgemmBatchedArgs): void {
    validateSgemmBatched(...args);
    this.use().sgemmStridedBatched(...args);
  }

  /** Thread count is process-wide: it sizes our pool and OpenBLAS's threads for every native backend. */
  setThreads(n: number): void {
    this.addon.setThreads(validateThreads(n));
  }

  getThreads(): number {
    return this.addon.getThreads();
  }

  peakGflops(seconds = 0.2, threads?: number): number {
    return this.addon.peakGflops(seconds, threads === undefined ? this.getThreads() : validateThreads(threads, 'peakGflops'));
  }

  /** The addon's own description (OpenBLAS config, compile flags, CPU features). */
  nativeInfo(): NativeInfo {
    return this.addon.info();
  }

  info(): BackendInfo {
    const ni = this.addon.info();
    const detail = this.name === 'openblas'
      ? `${ni.openblasConfig}; batched GEMMs: portable ${ni.portableIsa} kernel, one matrix per thread`
      : `portable blocked kernel (${ni.portableIsa})`;
    const info: BackendInfo = { name: this.name, threads: ni.threads, detail };
    if (this.fallbackReason) info.fallbackReason = this.fallbackReason;
    return info;
  }
}
