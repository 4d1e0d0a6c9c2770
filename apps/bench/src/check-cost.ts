/**
 * What the default finiteness check costs on `cpu-wasm`, measured in one process: core's
 * `nonFinite: 'error'` reads every gradient once before the update (the update itself
 * must not start before the whole step is known to be finite), and with `gradClipNorm`
 * that read is the sum-of-squares pass the clipping needs anyway. The models table times
 * every row in a fresh process, whose step times move by more than this difference from
 * one process to the next on a shared VM; here the two configurations step the same
 * tensors in alternation (see {@link measurePairedRatio}).
 */
import { createModelBackend } from './bench-backends.js';
import { measurePairedRatio, type PairedRatio } from './measure.js';
import { createPairedWorkloads, type WorkloadOptions } from './workload.js';

/** The row id `model-child.js` takes for this measurement. */
export const CHECK_COST_ROW = 'check-cost';

/** The check's cost, as step-time ratios (1.12: 12% slower). */
export interface CheckCost {
  /** `'error'` over `'propagate'`. */
  readonly check: PairedRatio;
  /** `'error'` + `gradClipNorm: 1` over `'propagate'` + `gradClipNorm: 1`. */
  readonly checkWithClip: PairedRatio;
}

/** `second`'s step time over `first`'s on a fresh `cpu-wasm` (every core) over `sizes`. */
async function pairedOnCpuWasm(sizes: readonly number[], first: WorkloadOptions, second: WorkloadOptions, timeMs: number): Promise<PairedRatio> {
  const backend = await createModelBackend('cpu-wasm');
  const [a, b] = await createPairedWorkloads(backend, sizes, first, second);
  try {
    return await measurePairedRatio(a, b, timeMs);
  } finally {
    b.dispose();
    a.dispose();
  }
}

/**
 * Measures {@link CheckCost} over tensors of `sizes` elements, each pair on a backend of
 * its own (two sets of moments at a time: GPT-2 small's 124M parameters fit cpu-wasm's
 * 4 GiB memory then, four would not).
 */
export async function measureCheckCost(sizes: readonly number[], timeMs: number): Promise<CheckCost> {
  const check = await pairedOnCpuWasm(sizes, { nonFinite: 'propagate' }, { nonFinite: 'error' }, timeMs);
  const checkWithClip = await pairedOnCpuWasm(sizes, { nonFinite: 'propagate', gradClipNorm: 1 }, { nonFinite: 'error', gradClipNorm: 1 }, timeMs);
  return { check, checkWithClip };
}
