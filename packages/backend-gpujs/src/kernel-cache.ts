import type { GPU } from 'gpu.js';
import {
  firstMomentKernel,
  nonFiniteCountKernel,
  paramKernel,
  secondMomentKernel,
  sumOfSquaresKernel,
  updateNonFiniteCountKernel,
  uploadKernel,
  type ReductionConstants,
} from './kernels.js';

/**
 * Lanes of the reduction kernels: every tensor is folded into this many float32 partial
 * results on the device (a `(scale, sum)` pair per lane for the sum of squares, a count
 * for the finiteness checks), and the host combines them in float64. 1024 keeps each
 * readback to 4–8 KiB, stays below webasm's 4096-cell threading threshold (a worker
 * round trip per reduction would cost more than it saves) and still gives a GPU 1024
 * independent, coalesced streams.
 *
 * @example
 * ```ts
 * const partials = new Float32Array(REDUCTION_WIDTH); // what one norm readback returns
 * ```
 */
export const REDUCTION_WIDTH = 1024;

/**
 * The kernels the backend compiles, each once per tensor size.
 *
 * @example
 * ```ts
 * const kind: KernelKind = 'sumOfSquares';
 * ```
 */
export type KernelKind =
  | 'upload'
  | 'firstMoment'
  | 'secondMoment'
  | 'param'
  | 'sumOfSquares'
  | 'nonFiniteCount'
  | 'updateNonFiniteCount';

/**
 * The slice of a gpu.js kernel-run shortcut this package uses.
 *
 * @example
 * ```ts
 * const kernel = cache.get('param', n); const p1 = await kernel(p, m1, v1, 1, 1e-3, 1, 1, 1e-8);
 * ```
 */
export interface CompiledKernel {
  /** Runs the kernel: a value, or a promise of it under the async contract. */
  (...args: unknown[]): unknown;
  /** Releases the kernel (its program, wasm instances or worker pool). */
  destroy(removeCanvasReferences?: boolean): void;
  /** The kernel instance that actually runs (gpu.js may swap it on fallback). */
  readonly kernel: { readonly constructor: { readonly mode?: string }; readonly fallbackReason?: string | null };
}

/**
 * How {@link KernelCache} compiles kernels.
 *
 * @example
 * ```ts
 * const options: KernelCacheOptions = { asyncMode: (cells) => cells >= 262_144 };
 * ```
 */
export interface KernelCacheOptions {
  /**
   * gpu.js `asyncMode` for a kernel with `cells` output elements: every call returns a
   * promise (webgpu is always async; webasm splits across worker threads only under it).
   */
  readonly asyncMode: (cells: number) => boolean;
  /** webasm worker-pool size cap; `undefined` lets gpu.js decide. */
  readonly poolSize?: number | undefined;
  /**
   * Give kernels `constants` with the ordinary `Object.prototype` (webasm needs it), not
   * prototype-free ones (GL and WebGPU need those once Object.prototype is polluted).
   */
  readonly ordinaryConstants?: boolean;
}

type KernelSource = (this: never, ...args: never[]) => number;

const SOURCES: Record<KernelKind, KernelSource> = {
  upload: uploadKernel as KernelSource,
  firstMoment: firstMomentKernel as KernelSource,
  secondMoment: secondMomentKernel as KernelSource,
  param: paramKernel as KernelSource,
  sumOfSquares: sumOfSquaresKernel as KernelSource,
  nonFiniteCount: nonFiniteCountKernel as KernelSource,
  updateNonFiniteCount: updateNonFiniteCountKernel as KernelSource,
};

/**
 * Output width of a kernel kind's reductions (and of the accumulator it chains onto), or
 * `undefined` for an element-wise kernel. The sum of squares keeps two numbers per lane.
 *
 * @example
 * ```ts
 * reductionWidth('sumOfSquares'); // 2 * REDUCTION_WIDTH
 * ```
 */
export function reductionWidth(kind: KernelKind): number | undefined {
  if (kind === 'sumOfSquares') return 2 * REDUCTION_WIDTH;
  if (kind === 'nonFiniteCount' || kind === 'updateNonFiniteCount') return REDUCTION_WIDTH;
  return undefined;
}

/** A prototype with nothing enumerable: only hasOwnProperty, which gpu.js calls on `constants`. */
const OWN_ONLY: object = Object.freeze(Object.create(null, { hasOwnProperty: { value: Object.prototype.hasOwnProperty } }));

/**
 * Compiled gpu.js kernels, one per (kind, tensor size). A gpu.js kernel is bound to its
 * output size; caching per size means a training loop compiles every kernel once, on
 * its first step, and never again (`dynamicOutput` would instead re-instantiate the
 * webasm module or resize GL framebuffers whenever consecutive tensors differ in size).
 *
 * @example
 * ```ts
 * const cache = new KernelCache(new GPU({ mode: 'webasm' }), { asyncMode: () => true });
 * const m1 = await cache.get('firstMoment', 1024)(g, p, m, 1, 0, 0, 0, 0.9, 0.1);
 * cache.destroy();
 * ```
 */
export class KernelCache {
  readonly #gpu: GPU;
  readonly #options: KernelCacheOptions;
  readonly #kernels = new Map<string, CompiledKernel>();

  constructor(gpu: GPU, options: KernelCacheOptions) {
    this.#gpu = gpu;
    this.#options = options;
  }

  /** How many kernels are compiled and held. */
  get size(): number {
    return this.#kernels.size;
  }

  /** The kernel of `kind` for tensors of `size` elements, compiled on first request. */
  get(kind: KernelKind, size: number): CompiledKernel {
    const key = `${kind}:${size}`;
    let kernel = this.#kernels.get(key);
    if (kernel === undefined) {
      kernel = this.#compile(kind, size);
      this.#kernels.set(key, kernel);
    }
    return kernel;
  }

  /** Destroys every kernel (and with it GL programs, wasm memories, worker pools). */
  destroy(): void {
    for (const kernel of this.#kernels.values()) kernel.destroy(true);
    this.#kernels.clear();
  }

  #compile(kind: KernelKind, size: number): CompiledKernel {
    const settings: Record<string, unknown> = {
      // Outputs stay on the device (textures / buffers) and feed the next kernel directly.
      pipeline: true,
      // A fresh output per call: a moment texture must survive the next call of the same
      // kernel on another tensor of the same size. The backend deletes the old one.
      immutable: true,
      // Float32 end to end; the mode was checked to support it (see modes.ts).
      precision: 'single',
      // highp in GLSL: mediump floats would lose the moments' low bits.
      tactic: 'precision',
    };
    if (this.#options.poolSize !== undefined) settings.poolSize = this.#options.poolSize;
    const width = reductionWidth(kind);
    // GL and WebGPU kernels walk `constants` and `constantTypes` with for…in, even for a
    // kernel without constants: an enumerable property someone put on Object.prototype
    // would become a "constant" of an unknown type and fail the build. Objects without
    // Object.prototype (but with the hasOwnProperty gpu.js calls) keep them out. webasm
    // instead looks up, in `constants`, every name its own layout objects enumerate, and
    // needs the ordinary prototype to find something there.
    const proto = this.#options.ordinaryConstants === true ? Object.prototype : OWN_ONLY;
    const constants = Object.create(proto) as Record<string, number>;
    const constantTypes = Object.create(proto) as Record<string, string>;
    if (width !== undefined) {
      const iterations = Math.max(1, Math.ceil(size / REDUCTION_WIDTH));
      const reduction: ReductionConstants = { size, width: REDUCTION_WIDTH, iterations };
      Object.assign(constants, reduction);
      // Integer constants keep the index arithmetic in ints on the GL and WGSL paths.
      Object.assign(constantTypes, { size: 'Integer', width: 'Integer', iterations: 'Integer' });
      settings.output = [width];
      settings.loopMaxIterations = iterations + 1;
    } else {
      settings.output = [size];
    }
    settings.constants = constants;
    settings.constantTypes = constantTypes;
    const [cells] = settings.output as [number];
    settings.asyncMode = this.#options.asyncMode(cells);
    const create = this.#gpu.createKernel.bind(this.#gpu) as unknown as (
      source: KernelSource,
      settings: Record<string, unknown>,
    ) => CompiledKernel;
    return create(SOURCES[kind], settings);
  }
}
