/**
 * PyTorch side by side (optional): `torch.optim.RAdam` over the same shapes, run by
 * python/torch_radam.py with the first Python that imports torch: `$RECTIFY_PYTHON`, then
 * `python3`, then `/usr/bin/python3` (Debian's python3-torch lives there while a pyenv
 * `python3` may shadow it). Skipped, with the reason, where none does (CI).
 */
import { fileURLToPath } from 'node:url';
import { failureText, lastJsonLine, runProcess } from './child-process.js';
import { ONE_STEP_MS } from './model-rows.js';

const SCRIPT = fileURLToPath(new URL('../python/torch_radam.py', import.meta.url));

/** A Python with torch, or why there is none. */
export type TorchPython = { readonly python: string; readonly version: string } | { readonly unavailable: string };

/** What the script reports for one run. */
export interface TorchReport {
  readonly torch: string;
  readonly threads: number;
  readonly foreach: boolean;
  readonly msPerStep: number;
  readonly samples: number;
  readonly peakExtraBytes: number | null;
  readonly peakMethod: 'VmHWM' | 'sampled';
  readonly note?: string;
}

/** The Pythons tried, in order. */
export function pythonCandidates(env: NodeJS.ProcessEnv): string[] {
  return [...new Set([env['RECTIFY_PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => p !== undefined && p !== ''))];
}

/** The first candidate that imports torch, with torch's version. */
export async function findTorch(env: NodeJS.ProcessEnv = process.env): Promise<TorchPython> {
  const tried: string[] = [];
  for (const python of pythonCandidates(env)) {
    try {
      const result = await runProcess(python, ['-c', 'import torch; print(torch.__version__)'], { timeoutMs: 60_000 });
      if (result.code === 0) return { python, version: result.stdout.trim() };
      tried.push(`${python}: ${failureText(result)}`);
    } catch (error) {
      tried.push(`${python}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { unavailable: `no Python with torch (${tried.join('; ')})` };
}

/** Checks the script's JSON line; throws naming what is missing. */
export function parseTorchReport(text: string): TorchReport {
  const json = lastJsonLine(text) as Record<string, unknown> | undefined;
  if (typeof json !== 'object' || json === null) throw new Error(`torch_radam.py printed no JSON: ${text.trim().slice(0, 200)}`);
  for (const key of ['msPerStep', 'samples', 'threads']) {
    if (typeof json[key] !== 'number' || !((json[key] as number) > 0)) throw new Error(`torch_radam.py: "${key}" is ${JSON.stringify(json[key])}, not a positive number`);
  }
  if (typeof json['torch'] !== 'string' || typeof json['foreach'] !== 'boolean') throw new Error('torch_radam.py: "torch" or "foreach" missing');
  if (json['peakExtraBytes'] !== null && typeof json['peakExtraBytes'] !== 'number') throw new Error('torch_radam.py: bad "peakExtraBytes"');
  return json as unknown as TorchReport;
}

/** One torch RAdam run over tensors of `sizes` elements on `threads` threads, in a fresh Python process. */
export async function runTorch(python: string, sizes: readonly number[], threads: number, foreach: boolean, timeMs: number): Promise<TorchReport> {
  const result = await runProcess(python, [SCRIPT], { input: JSON.stringify({ sizes, threads, foreach, timeMs, oneStepMs: ONE_STEP_MS }), timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`torch_radam.py: ${failureText(result)}`);
  return parseTorchReport(result.stdout);
}
