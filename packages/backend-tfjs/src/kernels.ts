/**
 * RAdam's step and its reductions as custom kernels (`tf.registerKernel`) of tfjs' `cpu`
 * and `wasm` backends: one pass over the data per kernel, where a graph of stock ops
 * makes a dozen passes, each with an allocation. The same kernel functions serve both
 * backends, through a {@link KernelStorage} for each: on `cpu` a tensor's elements are a
 * JavaScript typed array, on `wasm` a region of the wasm heap (see `wasm-heap.ts`).
 *
 * The step writes the new `p`, `m`, `v` in place where the caller allows it (on `wasm`,
 * a tensor whose data no other tensor shares: see {@link runStepKernel}) and into fresh
 * outputs elsewhere; on `cpu` always into fresh outputs, as tfjs' own kernels do (its
 * tensors may hold a caller's array). Every output is allocated before the first element
 * is written: running out of memory leaves everything as it was.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { RectifyError, allFinite, fusedRAdamUpdate, sumOfSquares, type RAdamScalars } from '@rectify/core';
import type { UpdateBatch } from './variables.js';
import { allocateTensors, heapView, isWasmBackend, rewritten, writableInPlace } from './wasm-heap.js';

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

/** An output a kernel allocates: its shape and dtype. */
type OutputSpec = readonly [number[], 'float32' | 'int32'];

/** How the kernels reach the elements of tensors on one tfjs backend. */
interface KernelStorage {
  /**
   * New tensors of `outputs`, every one allocated before any is returned.
   *
   * @throws RectifyError `OUT_OF_MEMORY` when one cannot be had (nothing stays allocated).
   */
  allocate(outputs: readonly OutputSpec[]): tf.TensorInfo[];
  /** The float32 elements of a tensor, without a copy (valid until the next `allocate`). */
  float32(info: tf.TensorInfo | undefined): Float32Array;
  /** The int32 elements of a tensor this storage allocated. */
  int32(info: tf.TensorInfo): Int32Array;
  /** Brings the data of `info` onto this backend, if it lives on another (tfjs moves it lazily). */
  resident(info: tf.TensorInfo): void;
  /** Whether the step may write the data of `dataId` in place. */
  writableInPlace(dataId: tf.DataId): boolean;
  /** Called once the step wrote the data of `dataId` in place. */
  rewritten(dataId: tf.DataId): void;
}

/** What the kernels use of tfjs' `MathBackendCPU` (its own kernels use the same members). */
interface CpuBackendMembers {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array | Int32Array): tf.TensorInfo;
}

function isCpuBackend(backend: unknown): backend is CpuBackendMembers {
  const b = backend as Partial<CpuBackendMembers> | null;
  return typeof b?.makeTensorInfo === 'function' && typeof b.data?.get === 'function';
}

function valuesOf<A extends Float32Array | Int32Array>(
  cpu: CpuBackendMembers,
  info: tf.TensorInfo | undefined,
  type: abstract new (...args: never[]) => A,
): A {
  const values = info === undefined ? undefined : cpu.data.get(info.dataId).values;
  if (!(values instanceof type)) throw new Error(`Rectify kernel: expected a tensor held in a ${type.name}.`);
  return values;
}

function cpuStorage(cpu: CpuBackendMembers): KernelStorage {
  return {
    allocate: (outputs) => {
      let arrays: (Float32Array | Int32Array)[];
      try {
        // Every array first (a RangeError can only happen here), registered only then.
        arrays = outputs.map(([shape, dtype]) => {
          const size = tf.util.sizeFromShape(shape);
          return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
        });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        const elements = outputs.reduce((n, [shape]) => n + tf.util.sizeFromShape(shape), 0);
        throw new RectifyError(
          'OUT_OF_MEMORY',
          `The tfjs cpu backend could not allocate ${elements} elements of new values; nothing was changed.`,
          undefined,
          { cause: error },
        );
      }
      return outputs.map(([shape, dtype], i) => cpu.makeTensorInfo(shape, dtype, arrays[i]!));
    },
    float32: (info) => valuesOf(cpu, info, Float32Array),
    int32: (info) => valuesOf(cpu, info, Int32Array),
    resident: (info) => void cpu.data.get(info.dataId),
    writableInPlace: () => false,
    rewritten: () => undefined,
  };
}

/** The storage of tfjs backend instance `backend`, or `undefined` for one without kernels. */
function storageOf(backend: unknown): KernelStorage | undefined {
  if (isWasmBackend(backend)) {
    return {
      allocate: (outputs) => allocateTensors(backend, outputs),
      float32: (info) => {
        if (info === undefined) throw new Error('Rectify kernel: missing input.');
        return heapView(backend, info, Float32Array);
      },
      int32: (info) => heapView(backend, info, Int32Array),
      resident: (info) => void backend.dataIdMap.get(info.dataId),
      writableInPlace: (dataId) => writableInPlace(backend, dataId),
      rewritten: (dataId) => rewritten(backend, dataId),
    };
  }
  return isCpuBackend(backend) ? cpuStorage(backend) : undefined;
}

function storageFor(backend: unknown): KernelStorage {
  const storage = storageOf(backend);
  if (storage === undefined) throw new Error('Rectify kernel: not the tfjs cpu or wasm backend.');
  return storage;
}

/** tfjs backends the kernels are written for. */
const KERNEL_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm']);

/** The tfjs backends this module has checked and registered its kernels on. */
const registered = new Set<string>();

/**
 * What the step kernel needs besides its tensors: the scalars of every batch, for every
 * slot the index of its batch, and for every slot's `p`, `m`, `v` (in that order)
 * whether to write it in place (absent: none).
 */
export interface StepKernelAttrs {
  readonly scalars: readonly RAdamScalars[];
  readonly batchOf: readonly number[];
  readonly inPlace?: readonly boolean[];
}

/** The inputs of slot `i`'s roles, in the order `p, m, v` (what is written) then `g`. */
const ROLES = ['p', 'm', 'v', 'g'] as const;

// Plain loops and no arrays per slot: with a thousand small tensors the bookkeeping, not
// the arithmetic, is the cost of a step.
const stepKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const storage = storageFor(backend);
  const { scalars, batchOf, inPlace } = attrs as unknown as StepKernelAttrs;
  const slots = batchOf.length;
  const tensors: tf.TensorInfo[] = new Array<tf.TensorInfo>(4 * slots);
  const fresh: OutputSpec[] = [];
  // Every input is on this backend and every output exists before the first element is
  // written, and before any view of the heap is taken: an allocation (moving an input
  // here is one) may grow the wasm heap, which detaches every view taken before.
  for (let i = 0; i < slots; i++) {
    for (let r = 0; r < 4; r++) {
      const info = inputs[`${ROLES[r]!}${i}`];
      if (info === undefined) throw new Error(`Rectify kernel: missing input ${ROLES[r]!}${i}.`);
      storage.resident(info);
      tensors[4 * i + r] = info;
    }
    for (let r = 0; r < 3; r++) if (inPlace?.[3 * i + r] !== true) fresh.push([tensors[4 * i]!.shape.slice(), 'float32']);
  }
  const outputs = storage.allocate([...fresh, [[], 'int32']]);
  let next = 0;
  let finite = true;
  for (let i = 0; i < slots; i++) {
    const p = storage.float32(tensors[4 * i]);
    const m = storage.float32(tensors[4 * i + 1]);
    const v = storage.float32(tensors[4 * i + 2]);
    const g = storage.float32(tensors[4 * i + 3]);
    const own = inPlace === undefined ? 0 : (inPlace[3 * i] ? 1 : 0) | (inPlace[3 * i + 1] ? 2 : 0) | (inPlace[3 * i + 2] ? 4 : 0);
    const param = own & 1 ? p : storage.float32(outputs[next++]);
    const firstMoment = own & 2 ? m : storage.float32(outputs[next++]);
    const secondMoment = own & 4 ? v : storage.float32(outputs[next++]);
    // Not `finite && …`: that would skip the update of every slot after a non-finite one.
    finite = fusedRAdamUpdate(p, g, m, v, scalars[batchOf[i]!]!, { param, firstMoment, secondMoment }) && finite;
    for (let r = 0; r < 3; r++) if (own & (1 << r)) storage.rewritten(tensors[4 * i + r]!.dataId);
  }
  storage.int32(outputs[next]!)[0] = finite ? 1 : 0;
  return outputs;
};

const sumKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const storage = storageFor(backend);
  const count = Object.keys(inputs).length;
  const sums = new Float64Array(count);
  const squares = attrs?.['squares'] === true;
  for (let i = 0; i < count; i++) {
    const x = storage.float32(inputs[`x${i}`]);
    // Without `squares` the caller only asks whether x is finite: NaN says it is not.
    sums[i] = squares ? sumOfSquares([x]) : allFinite([x]) ? 0 : NaN;
  }
  // int32 words carry the float64 bits exactly; a float32 output would round or overflow.
  const [out] = storage.allocate([[[2 * count], 'int32']]);
  storage.int32(out!).set(new Int32Array(sums.buffer));
  return out!;
};

/**
 * Whether the fused kernels can run on tfjs backend `name` (registering them on first use):
 * `true` on tfjs' own `cpu` and `wasm` backends.
 *
 * @example
 * ```ts
 * fusedKernelsAvailable(tf.getBackend()); // true on 'cpu' and 'wasm'
 * ```
 */
export function fusedKernelsAvailable(name: string): boolean {
  if (!KERNEL_BACKENDS.has(name)) return false;
  if (registered.has(name)) return true;
  if (storageOf(tf.findBackend(name)) === undefined) return false;
  for (const [kernelName, kernelFunc] of [
    [STEP_KERNEL, stepKernel],
    [SUM_KERNEL, sumKernel],
  ] as const) {
    // Another copy of this package may have registered them already: tfjs warns on repeats.
    if (tf.getKernel(kernelName, name) === undefined) {
      tf.registerKernel({ kernelName, backendName: name, kernelFunc });
    }
  }
  registered.add(name);
  return true;
}

/**
 * Runs the fused step kernel on every slot of `batches` in the active backend (one of
 * {@link fusedKernelsAvailable}'s). Each slot's `p`, `m`, `v` is written in place where no
 * other tensor shares its data (on `wasm`; `inPlace[3i + r]`, `r` = 0, 1, 2 for `p`, `m`,
 * `v` of slot `i`); for every other one `outputs` holds its new value, in that order
 * (the caller assigns them), and last the int32 finiteness flag.
 *
 * @throws RectifyError `OUT_OF_MEMORY` when the outputs cannot be allocated (then
 *   nothing was written).
 * @example
 * ```ts
 * const { outputs, inPlace } = runStepKernel(checked);
 * ```
 */
export function runStepKernel(batches: readonly UpdateBatch[]): { outputs: tf.Tensor[]; inPlace: boolean[] } {
  const storage = storageFor(tf.backend());
  const inputs: tf.NamedTensorMap = {};
  const batchOf: number[] = [];
  const inPlace: boolean[] = [];
  batches.forEach(({ targets }, b) => {
    for (const { param, grad, m, v } of targets) {
      const i = batchOf.length;
      inputs[`p${i}`] = param;
      inputs[`g${i}`] = grad;
      inputs[`m${i}`] = m;
      inputs[`v${i}`] = v;
      batchOf.push(b);
      inPlace.push(storage.writableInPlace(param.dataId), storage.writableInPlace(m.dataId), storage.writableInPlace(v.dataId));
    }
  });
  const attrs: StepKernelAttrs = { scalars: batches.map((batch) => batch.scalars), batchOf, inPlace };
  const outputs = tf.engine().runKernel(STEP_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { outputs, inPlace };
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
