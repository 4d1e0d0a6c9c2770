import type { WasmGlobal, WasmInstance } from './wasm-api.js';

/** Byte addresses and constants of the kernel's control block (defined in assembly/layout.ts). */
export interface KernelLayout {
  readonly GENERATION: number;
  readonly STOP: number;
  readonly FAILED: number;
  readonly CHUNKS_DONE: number;
  readonly CLAIM: number;
  readonly JOB_KIND: number;
  readonly JOB_TABLE: number;
  readonly JOB_SLOTS: number;
  readonly JOB_CHUNKS: number;
  readonly JOB_CHUNK_ELEMENTS: number;
  readonly JOB_RESULTS: number;
  readonly JOB_NON_FINITE: number;
  readonly JOB_TOTAL: number;
  readonly SCALARS_BYTES: number;
  readonly SCALAR_GRAD_SCALE: number;
  readonly SCALAR_CLIP_VALUE: number;
  readonly SCALAR_WEIGHT_DECAY: number;
  readonly SCALAR_PARAM_SCALE: number;
  readonly SCALAR_BETA1: number;
  readonly SCALAR_ONE_MINUS_BETA1: number;
  readonly SCALAR_BETA2: number;
  readonly SCALAR_ONE_MINUS_BETA2: number;
  readonly SCALAR_STEP_SIZE: number;
  readonly SCALAR_DENOM_SCALE: number;
  readonly SCALAR_EPS: number;
  readonly SCALAR_RECTIFIED: number;
  readonly KIND_RADAM: number;
  readonly KIND_SUM_OF_SQUARES: number;
  readonly KIND_ALL_FINITE: number;
  readonly SLOT_BYTES: number;
  readonly SLOT_P: number;
  readonly SLOT_G: number;
  readonly SLOT_M: number;
  readonly SLOT_V: number;
  readonly SLOT_BEGIN: number;
  readonly SLOT_END: number;
  readonly SLOT_SCALARS: number;
  readonly RESERVED_BYTES: number;
}

const NAMES: readonly (keyof KernelLayout)[] = [
  'GENERATION', 'STOP', 'FAILED', 'CHUNKS_DONE', 'CLAIM', 'JOB_KIND', 'JOB_TABLE', 'JOB_SLOTS', 'JOB_CHUNKS',
  'JOB_CHUNK_ELEMENTS', 'JOB_RESULTS', 'JOB_NON_FINITE', 'JOB_TOTAL', 'SCALARS_BYTES',
  'SCALAR_GRAD_SCALE', 'SCALAR_CLIP_VALUE', 'SCALAR_WEIGHT_DECAY', 'SCALAR_PARAM_SCALE', 'SCALAR_BETA1',
  'SCALAR_ONE_MINUS_BETA1', 'SCALAR_BETA2', 'SCALAR_ONE_MINUS_BETA2', 'SCALAR_STEP_SIZE',
  'SCALAR_DENOM_SCALE', 'SCALAR_EPS', 'SCALAR_RECTIFIED', 'KIND_RADAM', 'KIND_SUM_OF_SQUARES', 'KIND_ALL_FINITE',
  'SLOT_BYTES', 'SLOT_P', 'SLOT_G', 'SLOT_M', 'SLOT_V', 'SLOT_BEGIN', 'SLOT_END', 'SLOT_SCALARS', 'RESERVED_BYTES',
];

/** Reads the layout the kernel exports as globals, so it is defined in one place only. */
export function readLayout(instance: WasmInstance): KernelLayout {
  const layout: Record<string, number> = {};
  for (const name of NAMES) {
    const global = instance.exports[name] as WasmGlobal | undefined;
    if (global === undefined || typeof global.value !== 'number') {
      throw new Error(`radam.wasm does not export the layout constant ${name}: rebuild @rectify/backend-cpu.`);
    }
    layout[name] = global.value;
  }
  return layout as unknown as KernelLayout;
}
