import { spawn } from 'node:child_process';

/** How a process ended and what it printed. */
export interface ProcessResult {
  /** Exit code; `null` when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  /** Written to the process's stdin, which is then closed (no stdin at all when undefined). */
  readonly input?: string;
  /** SIGKILL after this many milliseconds (none when undefined). */
  readonly timeoutMs?: number;
  /** Also pass the process's stderr through to ours (progress lines), besides capturing it. */
  readonly forwardStderr?: boolean;
}

/** Runs `command` with `args` to its end; never rejects for a non-zero exit (see `code`). */
export function runProcess(command: string, args: readonly string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr!.on('data', (data: Buffer) => {
      stderr += data.toString();
      if (options.forwardStderr === true) process.stderr.write(data);
    });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** The last non-empty line of `text` parsed as JSON, or `undefined` when there is none or it is not JSON. */
export function lastJsonLine(text: string): unknown {
  const line = text.trim().split('\n').at(-1)?.trim();
  if (line === undefined || line === '') return undefined;
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** Why a process failed, in one line: its last stderr line, or how it ended. */
export function failureText(result: ProcessResult): string {
  const last = result.stderr.trim().split('\n').at(-1)?.trim();
  const ended = result.signal === null ? `exited with ${result.code}` : `killed by ${result.signal}`;
  return last === undefined || last === '' ? ended : `${last} (${ended})`;
}

/**
 * The flags of every Node process the bench starts (and of `pnpm bench` / `pnpm soak`
 * themselves): `--expose-gc`, so that a process can collect before measuring its baseline
 * memory; `--no-liftoff`, so that WebAssembly is compiled by V8's optimizing tier at once.
 * With Node's default, V8 first runs its baseline tier and moves functions up while the
 * bench runs: onnxruntime-web's large module was then measured half in baseline code (696
 * against 1410 steps/s over a 2000-step soak) and its growing code read as 50–90 MB of RSS
 * growth. A long training run ends up in the optimized code; these flags measure that.
 */
export const NODE_BENCH_FLAGS: readonly string[] = ['--expose-gc', '--no-liftoff'];

/**
 * Runs a Node script of this package in a fresh process (with {@link NODE_BENCH_FLAGS})
 * and returns its last stdout line as JSON; rejects with the child's last stderr line when
 * it fails.
 */
export async function runNodeChild(script: string, args: readonly string[], options: Omit<RunProcessOptions, 'input'> = {}): Promise<unknown> {
  const result = await runProcess(process.execPath, [...NODE_BENCH_FLAGS, script, ...args], options);
  const json = lastJsonLine(result.stdout);
  if (result.code !== 0 || json === undefined) throw new Error(`${script.split('/').at(-1)} ${args[0] ?? ''}: ${failureText(result)}`);
  return json;
}
