import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The seam to the tfjs `tf.train.adam` baseline of issue 8: `tfjs-vs-adam.ts` (written
 * separately, built to dist/tfjs-vs-adam.js) times Adam and RAdam on a tfjs backend and
 * prints JSON with `--json`. This module runs it in a child process, so that tfjs is
 * loaded only when a tfjs backend is benchmarked, and reads Adam's median step time:
 * `results[i].medianMs['tf.train.adam']` for `results[i].backend` (`cpu` or `wasm`).
 */
const SCRIPT = fileURLToPath(new URL('./tfjs-vs-adam.js', import.meta.url));

/** The tfjs backend a bench backend runs on (`tfjs-wasm` → `wasm`), or `undefined` for a non-tfjs one. */
export function tfjsBackendOf(benchBackend: string): string | undefined {
  return /^tfjs-(cpu|wasm|webgl|webgpu|node)$/.exec(benchBackend)?.[1];
}

interface TfjsVsAdamOutput {
  readonly results?: readonly { readonly backend?: unknown; readonly medianMs?: Record<string, unknown> }[];
}

const cache = new Map<string, Promise<number | undefined>>();

async function run(tfjsBackend: string, size: number): Promise<number | undefined> {
  if (!existsSync(SCRIPT)) {
    process.stderr.write(`tfjs Adam baseline skipped: ${SCRIPT} is not built.\n`);
    return undefined;
  }
  try {
    const args = [SCRIPT, '--json', '--size', String(size), '--iterations', '15', '--backends', tfjsBackend];
    const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
    const output = JSON.parse(stdout) as TfjsVsAdamOutput;
    const result = output.results?.find((r) => r.backend === tfjsBackend);
    const ms = result?.medianMs?.['tf.train.adam'];
    if (typeof ms !== 'number' || !(ms > 0)) throw new Error('no "tf.train.adam" median in its JSON output');
    return size / (ms / 1000);
  } catch (error) {
    process.stderr.write(`tfjs Adam baseline failed for tfjs-${tfjsBackend}, ${size} elements: ${String(error)}\n`);
    return undefined;
  }
}

/**
 * Elements per second of tfjs `tf.train.adam` on `tfjsBackend` for one tensor of `size`
 * elements (measured once per process), or `undefined` when it cannot be measured.
 */
export function tfjsAdamElementsPerSecond(tfjsBackend: string, size: number): Promise<number | undefined> {
  const key = `${tfjsBackend}:${size}`;
  let pending = cache.get(key);
  if (pending === undefined) {
    pending = run(tfjsBackend, size);
    cache.set(key, pending);
  }
  return pending;
}
