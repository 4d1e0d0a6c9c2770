/** The Rectify rows of the models table: a backend and how its workload is made and stepped. */

/** A first step slower than this gets no more (Rectify and torch rows alike): it is the row's one timed step. */
export const ONE_STEP_MS = 20_000;

/** One Rectify configuration measured on every model. */
export interface RectifyRow {
  /** What `model-child.js` takes. */
  readonly id: string;
  /** The row's label in the table (markdown). */
  readonly label: string;
  /** Bench backend name (bench-backends.ts). */
  readonly backend: string;
  readonly tensors: 'backend' | 'user' | 'resident';
  readonly nonFinite: 'propagate' | 'error';
  readonly gradClipNorm?: number;
}

/**
 * `nonFinite: 'propagate'` (no finiteness pass, like torch.optim.RAdam) except in the rows
 * that measure the default `'error'`; backend tensors except in the user-arrays row.
 */
export const RECTIFY_ROWS: readonly RectifyRow[] = [
  { id: 'cpu-wasm', label: '`cpu-wasm`, backend tensors', backend: 'cpu-wasm', tensors: 'backend', nonFinite: 'propagate' },
  { id: 'cpu-wasm-user', label: '`cpu-wasm`, user `Float32Array`s', backend: 'cpu-wasm', tensors: 'user', nonFinite: 'propagate' },
  {
    id: 'cpu-wasm-resident',
    label: '`cpu-wasm`, user `Float32Array`s via `registerResidentWeights`',
    backend: 'cpu-wasm',
    tensors: 'resident',
    nonFinite: 'propagate',
  },
  { id: 'cpu-wasm-error', label: "`cpu-wasm`, default `nonFinite: 'error'`", backend: 'cpu-wasm', tensors: 'backend', nonFinite: 'error' },
  {
    id: 'cpu-wasm-error-clip',
    label: "`cpu-wasm`, `'error'` + `gradClipNorm: 1`",
    backend: 'cpu-wasm',
    tensors: 'backend',
    nonFinite: 'error',
    gradClipNorm: 1,
  },
  { id: 'cpu', label: '`cpu`', backend: 'cpu', tensors: 'backend', nonFinite: 'propagate' },
  { id: 'onnx', label: '`onnx`', backend: 'onnx', tensors: 'backend', nonFinite: 'propagate' },
  { id: 'onnx-web', label: '`onnx-web`', backend: 'onnx-web', tensors: 'backend', nonFinite: 'propagate' },
  { id: 'tfjs-wasm', label: '`tfjs-wasm`', backend: 'tfjs-wasm', tensors: 'backend', nonFinite: 'propagate' },
  { id: 'tfjs-cpu', label: '`tfjs-cpu`', backend: 'tfjs-cpu', tensors: 'backend', nonFinite: 'propagate' },
];

/** The row called `id`; throws naming the known ones. */
export function findRectifyRow(id: string): RectifyRow {
  const row = RECTIFY_ROWS.find((r) => r.id === id);
  if (row === undefined) throw new Error(`Unknown row "${id}". Known: ${RECTIFY_ROWS.map((r) => r.id).join(', ')}.`);
  return row;
}
