import { backendEntries, findBackend, type BackendEntry } from '@rectify/all-backends';

/** The backend every other one is compared with: float64 typed arrays. */
export const REFERENCE_BACKEND = 'cpu64';

/** A registered backend and whether it can run here. */
export interface BackendStatus {
  readonly entry: BackendEntry;
  /** Why it cannot run on this machine, or `undefined` when it can. */
  readonly unavailable: string | undefined;
}

/**
 * The registered backends called `names` (all of them when `names` is undefined), in the
 * registry's order, each with the reason it cannot run here, if any.
 *
 * @throws Error naming the unknown backends and listing the known ones.
 */
export async function backendStatuses(names?: readonly string[]): Promise<BackendStatus[]> {
  const unknown = names?.filter((name) => findBackend(name) === undefined) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `Unknown backend${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
        `known: ${backendEntries.map((e) => e.name).join(', ')}.`,
    );
  }
  const chosen = names === undefined ? backendEntries : backendEntries.filter((e) => names.includes(e.name));
  // One at a time: tfjs has one active backend per process, and probing tfjs-wasm while
  // tfjs-webgpu initialises makes one of them fail for no reason of its own.
  const statuses: BackendStatus[] = [];
  for (const entry of chosen) statuses.push({ entry, unavailable: await entry.unavailableReason() });
  return statuses;
}

/** The reference backend's registry entry. */
export function referenceEntry(): BackendEntry {
  const entry = findBackend(REFERENCE_BACKEND);
  if (entry === undefined) throw new Error(`The reference backend "${REFERENCE_BACKEND}" is not registered.`);
  return entry;
}

/**
 * The largest parameter difference from the cpu64 run a backend may show after training
 * on the reference gradient stream, by dtype. float64: SPEC.md's float64 tolerance
 * (`1e-9`; cpu64 itself is exact). float32: SPEC.md's float32 relative tolerance `1e-4`
 * on weights of order 1. Each float32 step rounds `m`, `v` and `θ` at ~6e-8 relative, and
 * with the same gradients those errors do not feed back through the model, so after a few
 * hundred steps they stay around 1e-6 (the demo's table shows the measured values): the
 * bound leaves a factor of ~30 for backends that round differently (fused or GPU arithmetic).
 */
export const PARAM_DIFF_BOUND: Readonly<Record<string, number>> = { float64: 1e-9, float32: 1e-4 };
