/**
 * `@rectify/backend-tfjs/webgpu`: switches tfjs to its WebGPU backend, in a browser or in
 * Node on a WebGPU implementation such as Dawn's `webgpu` package. A separate entry
 * point, so the main one never imports `@tensorflow/tfjs-backend-webgpu` (install it
 * yourself, at the version of `@tensorflow/tfjs`, when you use this).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs';

/**
 * A WebGPU entry point: `navigator.gpu` in a browser, Dawn's `create([])` in Node. Only
 * what this module needs of it, so that no WebGPU type package is required to use it.
 */
export interface WebGpuEntryPoint {
  requestAdapter(options?: object): Promise<object | null>;
}

/**
 * Options of {@link useWebGpuBackend}.
 *
 * @example
 * ```ts
 * import { create, globals } from 'webgpu'; // Dawn for Node
 * Object.assign(globalThis, globals);
 * const options: UseWebGpuBackendOptions = { gpu: create([]) };
 * ```
 */
export interface UseWebGpuBackendOptions {
  /**
   * The WebGPU entry point (what `navigator.gpu` is in a browser). Default:
   * `navigator.gpu`. Where there is no `navigator.gpu` (Node), this one is installed as
   * `navigator.gpu`: `@tensorflow/tfjs-backend-webgpu` looks there, both when it is first
   * imported (to decide whether to register itself) and when it asks for its adapter.
   */
  readonly gpu?: WebGpuEntryPoint;
}

interface NavigatorHolder {
  navigator?: { gpu?: WebGpuEntryPoint };
}

/**
 * Makes `gpu` reachable as `navigator.gpu` where there is none, before tfjs' WebGPU
 * backend is imported. Throws when a different `navigator.gpu` is already there: tfjs
 * would use that one, not the caller's.
 */
function installGpu(gpu: WebGpuEntryPoint): void {
  const holder = globalThis as NavigatorHolder;
  if (holder.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return;
  }
  if (holder.navigator.gpu === undefined) {
    Object.defineProperty(holder.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
    return;
  }
  if (holder.navigator.gpu !== gpu) {
    throw new Error('navigator.gpu is already another WebGPU implementation; tfjs would use that one, not options.gpu.');
  }
}

/**
 * Registers tfjs' WebGPU backend and makes it the active tfjs backend. Call it before
 * creating an optimizer or a Rectify backend (they bind to the backend active at
 * creation). On WebGPU, `tfjsBackend()` reads asynchronously by default (`step()`
 * returns a promise).
 *
 * @throws Error when there is no WebGPU (no `navigator.gpu`, no `options.gpu`), when
 *   `@tensorflow/tfjs-backend-webgpu` is missing or was imported before `navigator.gpu`
 *   existed (it then never registered itself), or when no adapter or device can be had.
 * @example
 * ```ts
 * import { useWebGpuBackend } from '@rectify/backend-tfjs/webgpu';
 * await useWebGpuBackend(); // in a browser with WebGPU
 * const backend = tfjsBackend(); // 'tfjs-webgpu', asynchronous reads
 * ```
 */
export async function useWebGpuBackend(options: UseWebGpuBackendOptions = {}): Promise<void> {
  if (options.gpu !== undefined) installGpu(options.gpu);
  if ((globalThis as NavigatorHolder).navigator?.gpu === undefined) {
    throw new Error('No WebGPU here: navigator.gpu is missing and no options.gpu was given.');
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory('webgpu') === undefined) {
    throw new Error(
      '@tensorflow/tfjs-backend-webgpu did not register itself: it was imported before navigator.gpu existed. ' +
        'Call useWebGpuBackend() before anything imports it.',
    );
  }
  // setBackend() is false (and tfjs logs why) when the adapter or the device cannot be had.
  if (!(await tf.setBackend('webgpu'))) throw new Error('The tfjs webgpu backend could not be initialised (no WebGPU adapter or device).');
  await tf.ready();
}
