/**
 * RAdam's step and its reductions as custom kernels of tfjs' `cpu` backend
 * (`tf.registerKernel`). That backend runs every stock op as a JavaScript loop with its
 * own allocation, so a graph of a dozen ops makes a dozen passes; these kernels make one.
 * They follow the pattern of the backend's own kernels: read inputs through its storage,
 * write fresh outputs (tensors stay immutable), return `TensorInfo`s for the engine to
 * wrap and track.
 *
 * (On `wasm` the stock ops are compiled SIMD C++, faster than a JavaScript loop over the
 * wasm heap, so that backend keeps the op graph; see `op-graph-update.ts`.)
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { allFinite, fusedRAdamUpdate, sumOfSquares, type RAdamScalars } from '@rectify/core';

/**
 * Kernel name of the fused update: inputs `param grad m v`, outputs `[p1, m1, v1]`.
 *
 * @example
 * ```ts
 * tf.getKernel(UPDATE_KERNEL, 'cpu'); // registered once fusedKernelsAvailable('cpu') ran
 * ```
 */
export const UPDATE_KERNEL = 'RectifyRAdamUpdate';
/**
 * Kernel name of the float64 sums: inputs `x0…`, output the float64 bits as int32 pairs.
 *
 * @example
 * ```ts
 * tf.getKernel(SUM_KERNEL, 'cpu');
 * ```
 */
export const SUM_KERNEL = 'RectifyFloat64Sum';

/** The tfjs backend the kernels are written for. */
const KERNEL_BACKEND = 'cpu';

/** What the kernels use of tfjs' `MathBackendCPU` (its own kernels use the same members). */
interface CpuBackendMembers {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array | Int32Array): tf.TensorInfo;
}

/** Whether this module has checked the cpu backend and registered its kernels. */
let registered = false;

function isCpuBackend(backend: unknown): backend is CpuBackendMembers {
  const b = backend as Partial<CpuBackendMembers> | null;
  return typeof b?.makeTensorInfo === 'function' && typeof b.data?.get === 'function';
}

/** The float32 elements of `info`, without a copy. */
function float32(backend: CpuBackendMembers, info: tf.TensorInfo | undefined): Float32Array {
  const values = info === undefined ? undefined : backend.data.get(info.dataId).values;
  if (!(values instanceof Float32Array)) throw new Error('Rectify kernel: expected a float32 tensor.');
  return values;
}

function cpuOf(backend: unknown): CpuBackendMembers {
  if (!isCpuBackend(backend)) throw new Error('Rectify kernel: not the tfjs cpu backend.');
  return backend;
}

const updateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = cpuOf(backend);
  const { param, grad, m, v } = inputs;
  const shape = [...param!.shape];
  const p = float32(cpu, param);
  const [p1, m1, v1] = [0, 1, 2].map(() => new Float32Array(p.length)) as [Float32Array, Float32Array, Float32Array];
  fusedRAdamUpdate(p, float32(cpu, grad), float32(cpu, m), float32(cpu, v), attrs as unknown as RAdamScalars, {
    param: p1,
    firstMoment: m1,
    secondMoment: v1,
  });
  return [p1, m1, v1].map((values) => cpu.makeTensorInfo(shape, 'float32', values));
};

const sumKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = cpuOf(backend);
  const count = Object.keys(inputs).length;
  const sums = new Float64Array(count);
  const squares = attrs?.['squares'] === true;
  for (let i = 0; i < count; i++) {
    const x = float32(cpu, inputs[`x${i}`]);
    // Without `squares` the caller only asks whether x is finite: NaN says it is not.
    sums[i] = squares ? sumOfSquares([x]) : allFinite([x]) ? 0 : NaN;
  }
  // int32 words carry the float64 bits exactly; a float32 output would round or overflow.
  return cpu.makeTensorInfo([2 * count], 'int32', new Int32Array(sums.buffer));
};

/**
 * Whether the fused kernels can run on tfjs backend `name` (registering them on first use):
 * `true` on tfjs' own `cpu` backend.
 *
 * @example
 * ```ts
 * fusedKernelsAvailable(tf.getBackend()); // true on 'cpu'
 * ```
 */
export function fusedKernelsAvailable(name: string): boolean {
  if (name !== KERNEL_BACKEND) return false;
  if (registered) return true;
  if (!isCpuBackend(tf.findBackend(name))) return false;
  for (const [kernelName, kernelFunc] of [
    [UPDATE_KERNEL, updateKernel],
    [SUM_KERNEL, sumKernel],
  ] as const) {
    // Another copy of this package may have registered them already: tfjs warns on repeats.
    if (tf.getKernel(kernelName, KERNEL_BACKEND) === undefined) {
      tf.registerKernel({ kernelName, backendName: KERNEL_BACKEND, kernelFunc });
    }
  }
  registered = true;
  return true;
}

/**
 * Runs the fused update kernel on one slot in the active backend: new `[p, m, v]`.
 *
 * @example
 * ```ts
 * const [p1, m1, v1] = runUpdateKernel(param, grad, m, v, scalars);
 * ```
 */
export function runUpdateKernel(
  param: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  scalars: RAdamScalars,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(UPDATE_KERNEL, { param, grad, m, v }, { ...scalars }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/**
 * `Σ x²` (`squares`) or `Σ x` of each tensor, accumulated in float64 by the sum kernel: an
 * int32 tensor holding each sum's float64 bits (decode with {@link decodeSums}).
 *
 * @example
 * ```ts
 * decodeSums(runSumKernel([a, b], true).dataSync()); // Float64Array [Σa², Σb²]
 * ```
 */
export function runSumKernel(tensors: readonly tf.Tensor[], squares: boolean): tf.Tensor {
  const inputs: tf.NamedTensorMap = {};
  tensors.forEach((t, i) => {
    inputs[`x${i}`] = t;
  });
  return tf.engine().runKernel(SUM_KERNEL, inputs, { squares }) as tf.Tensor;
}

/**
 * The float64 sums of {@link runSumKernel}'s output, read back as int32 words.
 *
 * @example
 * ```ts
 * decodeSums(runSumKernel([x], false).dataSync())[0]; // Σx
 * ```
 */
export function decodeSums(words: ArrayLike<number>): Float64Array {
  return new Float64Array(Int32Array.from(words).buffer);
}
