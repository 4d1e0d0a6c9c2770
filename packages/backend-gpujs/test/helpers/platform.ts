import { createRequire } from 'node:module';
import { GPU } from 'gpu.js';
import { gpujsPlatform, selectGpujsMode, type GpujsMode } from '../../src/index.js';

/**
 * Makes WebGPU reachable from Node the way a user would: the `webgpu` package (Dawn, a
 * dependency of gpu.js) provides `navigator.gpu`. Returns why it could not, if it could not
 * (its prebuilt Linux binary needs glibc >= 2.38).
 */
async function installNodeWebGPU(): Promise<string | undefined> {
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator?.gpu !== undefined) return undefined;
  try {
    // Resolved from gpu.js's own folder: pnpm does not expose it to this package.
    const fromGpujs = createRequire(createRequire(import.meta.url).resolve('gpu.js'));
    const entry = fromGpujs.resolve('webgpu');
    const { create, globals } = (await import(entry)) as { create: (flags: string[]) => unknown; globals: object };
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
    return undefined;
  } catch (error) {
    return `the "webgpu" package (navigator.gpu for Node) did not load: ${String((error as Error).message).split('\n')[0]}`;
  }
}

const webgpuLoadFailure = await installNodeWebGPU();
const webgpuAdapter = webgpuLoadFailure === undefined && (await GPU.isWebGPUAvailable().catch(() => false));

/**
 * Why `mode` cannot run in this test process, or `undefined` when it can. Printed when a
 * suite is skipped, so a missing GPU shows in every test run instead of vanishing.
 */
export function whyUnavailable(mode: GpujsMode): string | undefined {
  if (mode === 'webgpu') {
    if (webgpuLoadFailure !== undefined) return webgpuLoadFailure;
    if (!webgpuAdapter) return 'navigator.gpu exists but no WebGPU adapter answered (no GPU on this machine)';
    return undefined;
  }
  try {
    selectGpujsMode(mode, gpujsPlatform, undefined);
    return undefined;
  } catch (error) {
    const hint =
      mode === 'headlessgl' ? ' (the optional native "gl" package is not built here)' : ' (no browser GL context in Node)';
    return (error as Error).message + hint;
  }
}
