import {
  RectifyError,
  allFinite,
  fusedRAdamUpdate,
  sumOfSquares,
  type FloatArray,
  type RAdamBatch,
  type SyncTensorBackend,
} from '@rectify/core';

/** Options of {@link cpuBackend}. */
export interface CpuBackendOptions {
  /**
   * Element type of the tensors the backend accepts and creates. `'float32'` (default) is
   * what models train in; `'float64'` is the reference precision the golden files are
   * checked against to 1e-9.
   */
  readonly dtype?: 'float32' | 'float64';
}

/** A synchronous backend over plain typed arrays: see {@link cpuBackend}. */
export interface CpuBackend<A extends FloatArray = FloatArray> extends SyncTensorBackend<A> {
  readonly name: 'cpu' | 'cpu64';
  readonly dtype: 'float32' | 'float64';
}

/**
 * The reference backend: tensors are `Float32Array`s (`dtype: 'float32'`, name `cpu`) or
 * `Float64Array`s (`dtype: 'float64'`, name `cpu64`), updated in place by core's fused
 * kernel, one pass per tensor, with no allocation per step. Tensors are flat: a typed
 * array's shape is `[length]`.
 *
 * @example
 * ```ts
 * const opt = new RAdam(cpuBackend(), { lr: 1e-3 });
 * opt.registerTrainableWeights({ w: new Float32Array(1024) });
 * ```
 */
export function cpuBackend(options: { dtype: 'float64' }): CpuBackend<Float64Array>;
export function cpuBackend(options?: { dtype?: 'float32' }): CpuBackend<Float32Array>;
export function cpuBackend(options?: CpuBackendOptions): CpuBackend;
export function cpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new RectifyError('INVALID_OPTION', `Option "dtype" must be "float32" or "float64", got ${String(dtype)}.`, 'dtype');
  }
  const ArrayType = dtype === 'float64' ? Float64Array : Float32Array;
  const isTensor = (value: unknown): value is FloatArray => value instanceof ArrayType;

  return {
    name: dtype === 'float64' ? 'cpu64' : 'cpu',
    dtype,
    synchronous: true,
    isTensor,
    shapeOf: (tensor) => [tensor.length],
    fromArray: (data) => ArrayType.from(data),
    zerosLike: (like) => new ArrayType(like.length),
    read: (tensor) => tensor.slice(),
    write: (tensor, data) => {
      tensor.set(data);
    },
    readInto: (tensor, begin, target) => {
      target.set(tensor.subarray(begin, begin + target.length));
    },
    writeRange: (tensor, begin, data) => {
      tensor.set(data, begin);
    },
    disposeTensor: () => {
      // Typed arrays are garbage-collected: nothing to release.
    },
    sumOfSquares: (tensors) => sumOfSquares(tensors),
    allFinite: (tensors) => allFinite(tensors),
    applyRAdam: (batches: readonly RAdamBatch<FloatArray>[]) => {
      let finite = true;
      for (const { slots, scalars } of batches) {
        for (const slot of slots) {
          // `&&` would skip the update of every slot after the first non-finite one.
          finite = fusedRAdamUpdate(slot.param, slot.grad, slot.firstMoment, slot.secondMoment, scalars) && finite;
        }
      }
      return finite;
    },
  };
}
