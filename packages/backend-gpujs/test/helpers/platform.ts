import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { installNavigatorGpu } from '@rectify/conformance/node-webgpu';
import { gpujsPlatform, selectGpujsMode, type GpujsMode } from '../../src/index.js';

/**
 * WebGPU for Node the way a user gets it: Dawn's `webgpu` package as `navigator.gpu`
 * (gpu.js reads the global), on SwiftShader's Vulkan driver where there is no GPU.
 */
const dawn = await installNavigatorGpu();
const webgpu = await gpujsPlatform.probeWebGPU();

/** Why headless-gl has no context here: the three ways it goes missing, named. */
function headlessGlHint(): string {
  let gl: string;
  try {
    // Resolved from gpu.js's own folder: an optional dependency of gpu.js, not of this package.
    gl = dirname(createRequire(createRequire(import.meta.url).resolve('gpu.js')).resolve('gl/package.json'));
  } catch {
    return 'the optional native "gl" package is not installed';
  }
  if (!existsSync(join(gl, 'build', 'Release', 'webgl.node'))) {
    return (
      `the optional native "gl" package is not built (${gl}): install the Debian packages in .ci/gpu-setup.sh, ` +
      'then `npm_config_nodedir=/usr pnpm rebuild -r gl`'
    );
  }
  if (process.env.DISPLAY === undefined) return 'headless-gl needs an X server: install xvfb (@rectify/conformance/xvfb starts it)';
  return `headless-gl built, but no GL context on DISPLAY=${process.env.DISPLAY}`;
}

/**
 * Why `mode` cannot run in this test process, or `undefined` when it can. In Node the
 * browser GL modes never can (the Chromium suite runs them); every other reason means a
 * missing piece of this machine's setup, which CI must not have.
 */
export function whyUnavailable(mode: GpujsMode): string | undefined {
  if (mode === 'webgpu') {
    if (dawn.unavailable !== undefined) return dawn.unavailable;
    return webgpu === undefined ? "Dawn answered, but gpu.js's WebGPU device request failed" : undefined;
  }
  try {
    selectGpujsMode(mode, gpujsPlatform, undefined);
    return undefined;
  } catch (error) {
    return `${(error as Error).message} (${mode === 'headlessgl' ? headlessGlHint() : 'browser only'})`;
  }
}

/** The browser-only modes, which a Node test process never has. */
export const BROWSER_ONLY: readonly GpujsMode[] = ['webgl2', 'webgl'];

/**
 * Whether `mode` runs on a software renderer here (SwiftShader, llvmpipe): such a run
 * proves the code path, at a fraction of a GPU's speed, so tests keep its random runs low.
 */
export function isSoftware(mode: GpujsMode): boolean {
  if (mode === 'webgpu') return webgpu?.isSoftware === true;
  if (mode === 'headlessgl') return gpujsPlatform.softwareRenderer(mode) !== undefined;
  return false;
}

/** The modes a Node test process runs here, best first (webasm and cpu always). */
export const NODE_MODES: readonly GpujsMode[] = (['webgpu', 'headlessgl', 'webasm', 'cpu'] as const).filter((mode) => {
  const reason = whyUnavailable(mode);
  // Never dropped silently: every file that loads this says what it leaves out.
  if (reason !== undefined) console.warn(`[gpujs-${mode}] not available in this test process: ${reason}`);
  return reason === undefined;
});

/** What the probe found, for test names. */
export const webgpuAdapter: string | undefined = webgpu?.adapter;
