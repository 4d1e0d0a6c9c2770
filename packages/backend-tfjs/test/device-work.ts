/// <reference types="@webgpu/types" />
/**
 * What the shared-kernel tests of tfjs-webgpu count and train on, in Node (Dawn:
 * `conformance-webgpu.test.ts`) and in Chromium
 * (`packages/conformance-browser/suite/tfjs-webgpu-optimizer.test.ts`).
 */

/** What the device was asked to do while some work ran. */
export interface DeviceWork {
  /** `dispatchWorkgroups` calls on compute passes of encoders created meanwhile. */
  readonly dispatches: number;
  /** Bytes copied into mappable (`MAP_READ`: readback) buffers meanwhile. */
  readonly readBytes: number;
}

/** Starts counting on every command encoder created on `device` from now on; `stop()` ends it. */
function watch(device: GPUDevice): { counts(): DeviceWork; stop(): void } {
  const original = device.createCommandEncoder;
  let dispatches = 0;
  let readBytes = 0;
  device.createCommandEncoder = function (this: GPUDevice, descriptor?: GPUCommandEncoderDescriptor) {
    const encoder = original.call(this, descriptor);
    const begin = encoder.beginComputePass.bind(encoder);
    const copy = encoder.copyBufferToBuffer.bind(encoder) as (...args: unknown[]) => void;
    encoder.beginComputePass = (passDescriptor?: GPUComputePassDescriptor) => {
      const pass = begin(passDescriptor);
      const dispatch = pass.dispatchWorkgroups.bind(pass);
      pass.dispatchWorkgroups = (x: number, y?: number, z?: number) => {
        dispatches++;
        dispatch(x, y, z);
      };
      return pass;
    };
    encoder.copyBufferToBuffer = ((...args: unknown[]) => {
      const [, , destination, , size] = args as [GPUBuffer, number, GPUBuffer, number, number];
      if ((destination.usage & GPUBufferUsage.MAP_READ) !== 0) readBytes += size;
      copy(...args);
    }) as GPUCommandEncoder['copyBufferToBuffer'];
    return encoder;
  };
  return {
    counts: () => ({ dispatches, readBytes }),
    stop: () => {
      device.createCommandEncoder = original;
    },
  };
}

/**
 * Runs `work` while counting the compute dispatches and readback bytes of every command
 * encoder created on `device` meanwhile (until its promise settles).
 */
export async function countDeviceWork<R>(device: GPUDevice, work: () => Promise<R>): Promise<DeviceWork & { result: R }> {
  const watching = watch(device);
  try {
    const result = await work();
    return { result, ...watching.counts() };
  } finally {
    watching.stop();
  }
}

/** {@link countDeviceWork} for synchronous `work`: the count ends when it returns. */
export function countDeviceWorkSync<R>(device: GPUDevice, work: () => R): DeviceWork & { result: R } {
  const watching = watch(device);
  try {
    const result = work();
    return { result, ...watching.counts() };
  } finally {
    watching.stop();
  }
}

/** How many variables the shared-kernel tests train: enough that per-variable dispatches show. */
export const COUNT = 1000;
/** The size of variable `i`: 1 to 40 elements. */
export const sizeOf = (i: number): number => 1 + ((i * 7) % 40);
/** The initial values of variable `i`, from a fixed pattern. */
export const initial = (i: number): number[] => Array.from({ length: sizeOf(i) }, (_, j) => Math.sin(i + 0.37 * j));
/** The gradient of variable `i` at step `k` (1, 2, …), from a fixed pattern. */
export const gradient = (i: number, k: number): number[] =>
  Array.from({ length: sizeOf(i) }, (_, j) => Math.cos(0.5 * i - 0.11 * j + k) * 0.3);
