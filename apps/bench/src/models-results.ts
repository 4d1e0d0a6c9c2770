import type { CheckCost } from './check-cost.js';
import type { MachineInfo } from './machine.js';
import type { Regime, Roofline } from './roofline.js';

/** One row of a model's table: a Rectify configuration, torch, or the native reference. */
export interface ModelRow {
  /** `rectify` rows run in a child process each; `torch` in a Python process; `native` is the C program. */
  readonly kind: 'rectify' | 'torch' | 'native';
  /** Stable id: a Rectify row id (model-rows.ts), `torch-foreach`, `torch-for-loop`, `native-simd128`, `native-native`. */
  readonly id: string;
  /** The label in the table (markdown). */
  readonly label: string;
  /** Median milliseconds per step; `undefined` when the row failed. */
  readonly msPerStep?: number;
  /** Timed steps behind the median. */
  readonly samples?: number;
  /** Peak resident memory above the process before the parameters were made, per parameter. */
  readonly peakBytesPerParameter?: number;
  readonly peakMethod?: 'VmHWM' | 'sampled';
  /** How the run was cut short (a slow backend), or what else the figure needs said. */
  readonly note?: string;
  /** Why the row has no figures (its error text). */
  readonly error?: string;
}

/** One model's rows. */
export interface ModelResult {
  readonly id: string;
  readonly name: string;
  readonly tensors: number;
  readonly parameters: number;
  /** The roofline the model's step is held to (28 B × parameters against the cache size). */
  readonly regime: Regime;
  readonly rows: readonly ModelRow[];
  /**
   * What `cpu-wasm`'s default finiteness check costs, paired in one process (check-cost.ts),
   * or why it was not measured; absent when no cpu-wasm row ran.
   */
  readonly checkCost?: CheckCost | { readonly failure: string };
}

/** Everything `--models` measured: written into results/models.json (and results.json with --update-readme). */
export interface ModelsResults {
  readonly machine: MachineInfo;
  /** Threads every side ran on: cpu-wasm's, the C program's and torch's. */
  readonly threads: number;
  readonly roofline: Roofline;
  /** The compiler and each build's widest vector register, or why there is no native reference. */
  readonly native: { readonly compiler: string; readonly simd128Bits: number | null; readonly nativeBits: number | null } | { readonly unavailable: string };
  /** The Python and torch version, or why torch was not run. */
  readonly torch: { readonly python: string; readonly version: string } | { readonly unavailable: string };
  readonly models: readonly ModelResult[];
}
