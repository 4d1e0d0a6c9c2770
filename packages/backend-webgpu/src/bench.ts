/// <reference types="@webgpu/types" />
/**
 * Measurements of the WebGPU backend for `apps/bench` and device scripts: optimizer steps
 * over device-resident tensors, and the device's own copy bandwidth to compare them with.
 *
 * @packageDocumentation
 */
import { RAdam } from '@rectify/core';
import type { WebGpuBackend } from './backend.js';
import type { WebGpuTensor } from './tensor.js';

/**
 * Bytes the fused update moves per element: reads `p, g, m, v`, writes `p, m, v`
 * (float32), the memory traffic a bandwidth figure is computed from.
 */
export const UPDATE_BYTES_PER_ELEMENT = 28;

/** Options of {@link benchWebGpuSteps}. */
export interface StepBenchOptions {
  /** Parameter tensors. */
  readonly tensors: number;
  /** Elements per tensor. */
  readonly size: number;
  /** Timed steps (default: as many as fit in `timeMs`, at least 5). */
  readonly steps?: number;
  /** Time budget when `steps` is not given, in milliseconds. Default 2000. */
  readonly timeMs?: number;
  /** Untimed steps first (pipelines, tables, pages settle). Default 3. */
  readonly warmupSteps?: number;
  /** Turns on `gradClipNorm` (adds the norm's reduction and its readback). Default false. */
  readonly clip?: boolean;
}

/** What {@link benchWebGpuSteps} measured. */
export interface StepBenchResult {
  readonly backend: string;
  readonly adapter: string;
  readonly tensors: number;
  readonly size: number;
  readonly steps: number;
  readonly seconds: number;
  readonly stepsPerSecond: number;
  /** Parameter elements updated per second. */
  readonly elementsPerSecond: number;
  /** `elementsPerSecond × 28` bytes: the update's memory traffic per second. */
  readonly bytesPerSecond: number;
  /** Per step, from the backend's counters. */
  readonly dispatchesPerStep: number;
  readonly updateDispatchesPerStep: number;
  readonly readbacksPerStep: number;
  readonly submitsPerStep: number;
}

/**
 * `RAdam.step()` on `backend` over `tensors × size` parameters whose gradients stay on
 * the device (created once, reused): the optimizer's own cost, each step awaited (its
 * finiteness flag read back) as a training loop would. Creates and releases its tensors;
 * leaves the backend usable.
 *
 * @example
 * ```ts
 * const backend = await createWebGpuBackend();
 * const row = await benchWebGpuSteps(backend, { tensors: 1000, size: 1000 });
 * console.log(row.elementsPerSecond, row.updateDispatchesPerStep); // …, 1
 * ```
 */
export async function benchWebGpuSteps(backend: WebGpuBackend, options: StepBenchOptions): Promise<StepBenchResult> {
  const { tensors, size, warmupSteps = 3, timeMs = 2000, clip = false } = options;
  const params: Record<string, WebGpuTensor> = {};
  const grads: Record<string, WebGpuTensor> = {};
  const data = new Float32Array(size);
  for (let t = 0; t < tensors; t++) {
    for (let i = 0; i < size; i++) data[i] = Math.sin(0.37 * i + t) * 0.1;
    params[`p${t}`] = backend.fromArray(data, [size]);
    for (let i = 0; i < size; i++) data[i] = Math.cos(0.11 * i + t) * 0.01;
    grads[`p${t}`] = backend.fromArray(data, [size]);
  }
  const optimizer = new RAdam(backend, { lr: 1e-4, weightDecay: 1e-4, ...(clip ? { gradClipNorm: 1 } : {}) });
  try {
    optimizer.registerTrainableWeights(params);
    for (let s = 0; s < warmupSteps; s++) await optimizer.step(grads);
    const before = backend.stats;
    const started = performance.now();
    let steps = 0;
    const budget = options.steps;
    while (budget === undefined ? steps < 5 || performance.now() - started < timeMs : steps < budget) {
      await optimizer.step(grads);
      steps++;
    }
    const seconds = (performance.now() - started) / 1000;
    const after = backend.stats;
    const per = (key: keyof typeof after): number => (after[key] - before[key]) / steps;
    const elementsPerSecond = (tensors * size * steps) / seconds;
    return {
      backend: backend.name,
      adapter: backend.adapterName,
      tensors,
      size,
      steps,
      seconds,
      stepsPerSecond: steps / seconds,
      elementsPerSecond,
      bytesPerSecond: elementsPerSecond * UPDATE_BYTES_PER_ELEMENT,
      dispatchesPerStep: per('dispatches'),
      updateDispatchesPerStep: per('updateDispatches'),
      readbacksPerStep: per('readbacks'),
      submitsPerStep: per('submits'),
    };
  } finally {
    optimizer.dispose();
    for (const tensor of [...Object.values(params), ...Object.values(grads)]) backend.disposeTensor(tensor);
  }
}

/**
 * The device's copy bandwidth: `copyBufferToBuffer` of `bytes` (read and written, so
 * `2 × bytes` of traffic per copy), `repeats` copies per submit, timed to
 * `onSubmittedWorkDone`. The ceiling a memory-bound kernel is compared with.
 *
 * @example
 * ```ts
 * const { bytesPerSecond } = await measureCopyBandwidth(backend.device, 1 << 28);
 * ```
 */
export async function measureCopyBandwidth(device: GPUDevice, bytes: number, repeats = 20): Promise<{ readonly bytesPerSecond: number; readonly seconds: number }> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  device.pushErrorScope('out-of-memory');
  const source = device.createBuffer({ size: bytes, usage });
  const target = device.createBuffer({ size: bytes, usage });
  const oom = await device.popErrorScope();
  try {
    if (oom !== null) throw new Error(`measureCopyBandwidth: two buffers of ${bytes} bytes do not fit: ${oom.message}`);
    const run = async (): Promise<number> => {
      const encoder = device.createCommandEncoder();
      for (let r = 0; r < repeats; r++) encoder.copyBufferToBuffer(r % 2 === 0 ? source : target, 0, r % 2 === 0 ? target : source, 0, bytes);
      const started = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return (performance.now() - started) / 1000;
    };
    await run(); // first touch of both buffers
    const seconds = await run();
    return { bytesPerSecond: (2 * bytes * repeats) / seconds, seconds };
  } finally {
    source.destroy();
    target.destroy();
  }
}
