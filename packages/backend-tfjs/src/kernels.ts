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
import { RectifyError, allFinite, fusedRAdamUpdate, sumOfSquares, type RAdamScalars } from '@rectify/core';
import type { UpdateBatch } from './variables.js';

/**
 * Kernel name of the fused step: inputs `p0 g0 m0 v0 p1 g1 …` (every slot of every batch),
 * attrs {@link StepKernelAttrs}, outputs `[p'0, m'0, v'0, p'1, …, finite]`, the last an
 * int32 scalar, 1 when every value written is finite. (Not the name of the per-slot kernel
 * of earlier versions: another copy of this package may have registered that one.)
 *
 * @example
 * ```ts
 * tf.getKernel(STEP_KERNEL, 'cpu'); // registered once fusedKernelsAvailable('cpu') ran
 * ```
 */
export const STEP_KERNEL = 'RectifyRAdamStep';
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

/**
 * What the step kernel needs besides its tensors: the scalars of every batch, and for
 * every slot the index of its batch.
 */
export interface StepKernelAttrs {
  readonly scalars: readonly RAdamScalars[];
  readonly batchOf: readonly number[];
}

const stepKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = cpuOf(backend);
  const { scalars, batchOf } = attrs as unknown as StepKernelAttrs;
  const slots = batchOf.map((batch, i) => {
    const param = inputs[`p${i}`];
    const p = float32(cpu, param);
    return {
      shape: [...param!.shape],
      p,
      g: float32(cpu, inputs[`g${i}`]),
      m: float32(cpu, inputs[`m${i}`]),
      v: float32(cpu, inputs[`v${i}`]),
      scalars: scalars[batch]!,
      // Every output of the step is allocated here, before any is computed or handed
      // over: running out of memory (a RangeError) can only happen before the caller
      // writes a variable.
      out: { param: new Float32Array(p.length), firstMoment: new Float32Array(p.length), secondMoment: new Float32Array(p.length) },
    };
  });
  let finite = true;
  for (const { p, g, m, v, scalars: s, out } of slots) {
    // Not `finite && …`: that would skip the update of every slot after a non-finite one.
    finite = fusedRAdamUpdate(p, g, m, v, s, out) && finite;
  }
  return [
    ...slots.flatMap(({ shape, out }) =>
      [out.param, out.firstMoment, out.secondMoment].map((values) => cpu.makeTensorInfo(shape, 'float32', values)),
    ),
    cpu.makeTensorInfo([], 'int32', Int32Array.of(finite ? 1 : 0)),
  ];
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
    [STEP_KERNEL, stepKernel],
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
 * Runs the fused step kernel on every slot of `batches` in the active backend: the new
 * `[p, m, v]` of each slot, in order, then the int32 finiteness flag. Nothing is written:
 * the caller assigns the outputs.
 *
 * @throws RectifyError `OUT_OF_MEMORY` when the outputs cannot be allocated.
 * @example
 * ```ts
 * const [p1, m1, v1, finite] = runStepKernel(checked);
 * ```
 */
export function runStepKernel(batches: readonly UpdateBatch[]): tf.Tensor[] {
  const inputs: tf.NamedTensorMap = {};
  const batchOf: number[] = [];
  batches.forEach(({ targets }, b) => {
    for (const { param, grad, m, v } of targets) {
      const i = batchOf.length;
      inputs[`p${i}`] = param;
      inputs[`g${i}`] = grad;
      inputs[`m${i}`] = m;
      inputs[`v${i}`] = v;
      batchOf.push(b);
    }
  });
  const attrs: StepKernelAttrs = { scalars: batches.map((batch) => batch.scalars), batchOf };
  try {
    return tf.engine().runKernel(STEP_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const elements = batches.reduce((n, { targets }) => targets.reduce((k, t) => k + t.param.size, n), 0);
    throw new RectifyError(
      'OUT_OF_MEMORY',
      `The tfjs cpu backend could not allocate the new values of ${elements} parameter elements and their moments; nothing was changed.`,
      undefined,
      { cause: error },
    );
  }
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
