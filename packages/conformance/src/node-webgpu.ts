/// <reference types="@webgpu/types" />
/**
 * WebGPU in Node for tests and benchmarks: Dawn's bindings (the `webgpu` package, 0.6.x),
 * with a software Vulkan driver when the machine has no GPU.
 *
 * On a machine without a GPU, Dawn needs a Vulkan driver that implements what it requires;
 * Debian 12's lavapipe is too old, but the SwiftShader driver that ships with Debian's
 * `chromium` package works. The Vulkan loader (`libvulkan1`) reads `VK_ICD_FILENAMES` when
 * Dawn creates its instance, so setting it here, before the first adapter request, is
 * enough. A machine with an NVIDIA driver keeps its own ICD.
 *
 * @packageDocumentation
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** SwiftShader's Vulkan ICD manifest, from Debian's `chromium` package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const HARDWARE_ICDS = [
  '/usr/share/vulkan/icd.d/nvidia_icd.json',
  '/etc/vulkan/icd.d/nvidia_icd.json',
  '/usr/share/vulkan/icd.d/nvidia_icd.x86_64.json',
];

/** What {@link loadNodeWebGpu} found. */
export type NodeWebGpu =
  | {
      /** The `navigator.gpu` equivalent. */
      readonly gpu: GPU;
      /** The adapter it returns by default. */
      readonly adapter: GPUAdapter;
      /** `vendor architecture (description)`, e.g. `google swiftshader (SwiftShader driver 5.0.0)`. */
      readonly adapterName: string;
      /** True for software adapters (SwiftShader, llvmpipe): figures prove paths, not speed. */
      readonly isSoftware: boolean;
      readonly unavailable?: undefined;
    }
  | { readonly unavailable: string; readonly gpu?: undefined };

/**
 * Points the Vulkan loader at SwiftShader when no driver is chosen and no NVIDIA ICD is
 * installed, and gives Dawn the `XDG_RUNTIME_DIR` it expects. Returns what it set.
 */
export function configureSoftwareVulkan(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const set: Record<string, string> = {};
  const driverChosen = env.VK_ICD_FILENAMES !== undefined || env.VK_DRIVER_FILES !== undefined;
  if (!driverChosen && !HARDWARE_ICDS.some((path) => existsSync(path)) && existsSync(SWIFTSHADER_ICD)) {
    set.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  if (env.XDG_RUNTIME_DIR === undefined || !existsSync(env.XDG_RUNTIME_DIR)) {
    set.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'rectify-xdg-'));
  }
  Object.assign(env, set);
  return set;
}

let loaded: Promise<NodeWebGpu> | undefined;

/**
 * Dawn's WebGPU for this process (loaded once), or why it is not available here: the
 * `webgpu` package missing, no Vulkan loader, no adapter. Also installs Dawn's WebGPU
 * globals (`GPUBufferUsage`, …) on `globalThis` where they are missing, as code written
 * for browsers expects them.
 */
export function loadNodeWebGpu(): Promise<NodeWebGpu> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<NodeWebGpu> {
  configureSoftwareVulkan();
  let dawn: { create(options: string[]): GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import('webgpu')) as typeof dawn;
  } catch (error) {
    return { unavailable: `the \`webgpu\` package (Dawn for Node) does not load: ${message(error)}` };
  }
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  let adapter: GPUAdapter | null;
  const gpu = dawn.create([]);
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return { unavailable: `Dawn found no WebGPU adapter (${vulkanHint()}): ${message(error)}` };
  }
  if (adapter === null) return { unavailable: `Dawn found no WebGPU adapter (${vulkanHint()})` };
  const info = adapter.info;
  const isSoftware = info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description}`);
  return { gpu, adapter, adapterName: `${info.vendor} ${info.architecture} (${info.description})`, isSoftware };
}

function vulkanHint(): string {
  return existsSync(SWIFTSHADER_ICD)
    ? 'needs the Vulkan loader: apt-get install libvulkan1'
    : `needs a Vulkan driver: apt-get install chromium libvulkan1 (SwiftShader, ${SWIFTSHADER_ICD})`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * {@link loadNodeWebGpu}, and Dawn's `GPU` installed as `navigator.gpu` (creating a
 * `navigator` where Node has none), for libraries that only read the global (gpu.js,
 * tfjs-backend-webgpu). Always the same object, so every library of the process shares it.
 */
export async function installNavigatorGpu(): Promise<NodeWebGpu> {
  const dawn = await loadNodeWebGpu();
  if (dawn.gpu === undefined) return dawn;
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  // Node ≥ 21 has a navigator (gpu.js reads its hardwareConcurrency too): extend it.
  if (scope.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
  if (scope.navigator!.gpu !== dawn.gpu) Object.defineProperty(scope.navigator, 'gpu', { value: dawn.gpu, configurable: true });
  return dawn;
}
