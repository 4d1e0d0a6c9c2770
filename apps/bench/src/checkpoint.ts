/**
 * `pnpm bench --checkpoint`: safetensors checkpoints of a transformer-sized optimizer
 * (with its parameters) on each CPU backend (`cpu`, `cpu-wasm`, `tfjs-cpu`, `onnx`, or
 * those of `--backend`), against this machine's disk.
 *
 * - The disk: the same number of bytes written sequentially (8 MiB writes) and fsynced.
 * - Per backend, save and load, each in a fresh process (checkpoint-child.ts): time,
 *   throughput, peak resident memory above what the process held before the call, and
 *   the state's digest after loading and after one more step on both sides (bit-exact
 *   resume).
 * - The file's size against the raw bytes of its tensors.
 * - A kill loop: a writer process that resumes from the file and saves version after
 *   version is SIGKILLed at a random point, `--kills` times; after each kill the file must
 *   load and its digest equal the one the writer logged for that version, and the version
 *   must be the last one completed or the one in flight (never an older one).
 */
import { loadCheckpoint, readCheckpoint } from '@rectify/core/node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildReport } from './checkpoint-child.js';
import { runNodeChild } from './child-process.js';
import { CHECKPOINT_BACKENDS, buildModel, stateDigest, transformerShapes } from './checkpoint-model.js';
import { describeMachine, machineInfo, type MachineInfo } from './machine.js';

const CHILD = fileURLToPath(new URL('./checkpoint-child.js', import.meta.url));
/** The kill loop's model: small (one layer, 12.7 MB files), so that a save takes tens of milliseconds and kills are many. */
const KILL_LOOP_PARAMS = 1e6;

/** What `pnpm bench --checkpoint` measures. */
export interface CheckpointBenchOptions {
  /** Parameters of the model (default 250M). */
  readonly params: number;
  /** SIGKILLs of the kill loop (0: no loop). */
  readonly kills: number;
  /** Where the files go (their disk is the one measured). */
  readonly dir: string;
  /** The backends to save and load on (default {@link CHECKPOINT_BACKENDS}). */
  readonly backends?: readonly string[];
}

/** Save and load of one backend. */
export interface CheckpointBackendRun {
  readonly backend: string;
  readonly fileBytes: number;
  readonly save: ChildReport;
  readonly load: ChildReport;
  readonly bitExact: { readonly afterLoad: boolean; readonly afterStep: boolean };
}

/** Every figure of one run. */
export interface CheckpointBenchResult {
  readonly machine: MachineInfo;
  readonly params: number;
  readonly tensors: number;
  readonly largestTensorBytes: number;
  readonly rawBytes: number;
  /** Sequential write with fsync, bytes per second. */
  readonly diskBytesPerSecond: number;
  readonly runs: readonly CheckpointBackendRun[];
  readonly killLoop: KillLoopResult;
}

/** What the kill loop saw. */
export interface KillLoopResult {
  /** Parameters of the writer's model, and the size of its checkpoint (with parameters). */
  readonly params: number;
  readonly fileBytes: number;
  readonly kills: number;
  /** Kills that landed inside a save (its "start" logged, its "done" not). */
  readonly insideSave: number;
  /** Loads whose version was the save in flight (it had committed before the kill). */
  readonly inFlightVersionLoaded: number;
  /** The version the file held at the end: versions saved and verified. */
  readonly versions: number;
  readonly seconds: number;
  /** Temporary files left after the last kill (the next save sweeps them). */
  readonly leftoverFiles: number;
}

/** Writes `bytes` bytes sequentially in 8 MiB writes, fsyncs, and returns bytes per second. */
async function diskWriteSpeed(path: string, bytes: number): Promise<number> {
  const chunk = randomBytes(8 << 20);
  const started = performance.now();
  const file = await open(path, 'w');
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(chunk.length, bytes - done);
      done += (await file.write(chunk, 0, n)).bytesWritten;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  const seconds = (performance.now() - started) / 1000;
  await unlink(path);
  return bytes / seconds;
}

/** Runs a save or load process and returns its report. */
async function runChild(args: readonly string[]): Promise<ChildReport> {
  return (await runNodeChild(CHILD, args, { forwardStderr: true })) as ChildReport;
}

/** The log's complete lines: the digest logged for each version, and the last done and started versions. */
function readLog(log: string): { digests: Map<number, string>; lastDone: number; lastStarted: number } {
  const digests = new Map<number, string>();
  let lastDone = 0;
  let lastStarted = 0;
  const text = readFileSync(log, 'utf8');
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    const [kind, version, digest] = line.split(' ');
    if (kind === 'start') {
      digests.set(Number(version), digest!);
      lastStarted = Number(version);
    } else if (kind === 'done') {
      lastDone = Number(version);
    }
  }
  return { digests, lastDone, lastStarted };
}

async function killLoop(dir: string, kills: number, log: (line: string) => void): Promise<KillLoopResult> {
  const file = join(dir, 'kill-loop.safetensors');
  const logFile = join(dir, 'kill-loop.log');
  const shapes = transformerShapes(KILL_LOOP_PARAMS);
  const model = await buildModel(shapes, { fill: 0 });
  let insideSave = 0;
  let inFlightVersionLoaded = 0;
  let versions = 0; // the version the file held at the last check
  const started = performance.now();
  for (let kill = 1; kill <= kills; kill++) {
    const child = spawn(process.execPath, [CHILD, 'writer', file, logFile, String(KILL_LOOP_PARAMS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await Promise.race([new Promise((resolve) => child.stdout.once('data', resolve)), exited]);
    // A step and a save of this model take about 100 ms here: up to 400 ms lands anywhere in a few of them.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
    child.kill('SIGKILL');
    await exited;
    const { digests, lastDone, lastStarted } = readLog(logFile);
    if (lastStarted > lastDone) insideSave++;
    const saved = await loadCheckpoint<{ version: number }>(file, model.opt);
    const version = saved?.version ?? 0;
    // The writer resumed from `versions` (what the last check loaded): the file now holds its
    // last completed save, or the one in flight if that one committed before the kill.
    const completed = Math.max(lastDone, versions);
    if (version !== completed && version !== lastStarted) {
      throw new Error(`kill ${kill}: the file holds version ${version}; the last save completed was ${completed}, the one in flight ${lastStarted}`);
    }
    if (version > 0 && (await stateDigest(model)) !== digests.get(version)) {
      throw new Error(`kill ${kill}: the file's version ${version} loads, but its state differs from what was saved`);
    }
    if (version === lastStarted && lastStarted > lastDone) inFlightVersionLoaded++;
    versions = version;
    if (kill % 50 === 0) log(`  ${kill} kills: version ${version}, ${insideSave} inside a save`);
  }
  return {
    params: shapes.reduce((sum, s) => sum + s.size, 0),
    // No file when no writer finished a save before its kill (0 kills, or few on a slow machine).
    fileBytes: existsSync(file) ? statSync(file).size : 0,
    kills,
    insideSave,
    inFlightVersionLoaded,
    versions,
    seconds: (performance.now() - started) / 1000,
    leftoverFiles: readdirSync(dir).filter((f) => f.endsWith('.tmp')).length,
  };
}

const MiB = 2 ** 20;

/** The run's figures as markdown. */
export function checkpointMarkdown(r: CheckpointBenchResult): string {
  const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
  const rate = (bytes: number, seconds: number): string => `${(bytes / seconds / 1e9).toFixed(2)} GB/s`;
  const share = (bytes: number, seconds: number): string => `${((bytes / seconds / r.diskBytesPerSecond) * 100).toFixed(0)}%`;
  const mem = (c: ChildReport): string => `${(c.peakExtraBytes / MiB).toFixed(1)} MiB (${c.peakMethod})`;
  const exact = (run: CheckpointBackendRun): string =>
    run.bitExact.afterLoad && run.bitExact.afterStep ? 'yes' : `NO (after load ${run.bitExact.afterLoad}, after a step ${run.bitExact.afterStep})`;
  const k = r.killLoop;
  const rows = r.runs.flatMap((run) => [
    `| \`${run.backend}\` saveCheckpoint | ${run.save.seconds.toFixed(2)} s | ${rate(run.fileBytes, run.save.seconds)} | ${share(run.fileBytes, run.save.seconds)} | ${mem(run.save)} | |`,
    `| \`${run.backend}\` loadCheckpoint (page cache warm) | ${run.load.seconds.toFixed(2)} s | ${rate(run.fileBytes, run.load.seconds)} | ${share(run.fileBytes, run.load.seconds)} | ${mem(run.load)} | ${exact(run)} |`,
  ]);
  const fileBytes = r.runs[0]?.fileBytes ?? r.rawBytes;
  return [
    `Checkpoint of ${(r.params / 1e6).toFixed(1)}M float32 parameters in ${r.tensors} parameter tensors (largest ${(r.largestTensorBytes / MiB).toFixed(0)} MiB), ` +
      `with moments and parameters (${3 * r.tensors} tensors in the file), saved and loaded in fresh processes on each backend; ${describeMachine(r.machine)}.`,
    '',
    '| | time | throughput | of disk write | peak RSS above the optimizer | bit-exact resume |',
    '| --- | --- | --- | --- | --- | --- |',
    `| disk: sequential write + fsync | ${(r.rawBytes / r.diskBytesPerSecond).toFixed(2)} s | ${rate(r.diskBytesPerSecond, 1)} | 100% | | |`,
    ...rows,
    '',
    `File ${gb(fileBytes)} for ${gb(r.rawBytes)} of tensors: ${(((fileBytes - r.rawBytes) / r.rawBytes) * 100).toFixed(4)}% overhead. ` +
      'Bit-exact resume: the loading process\'s state digest (SHA-256 of every parameter, moment and step count) equals the saving one\'s, right after the load and after one more step on both.',
    '',
    `Kill loop (\`cpu\`): ${k.kills} SIGKILLs of a writer saving a ${(k.params / 1e6).toFixed(2)}M-parameter checkpoint (${(k.fileBytes / 1e6).toFixed(1)} MB) over and over, ` +
      `${k.insideSave} of them inside a save; every time the file loaded and equalled the version logged for it ` +
      `(${k.inFlightVersionLoaded} times the save in flight, committed just before the kill; never an older one); ` +
      `${k.versions} versions in ${k.seconds.toFixed(0)} s; ${k.leftoverFiles} temporary files left for the next save to sweep.`,
  ].join('\n');
}

/** Runs everything; progress on `log`. */
export async function runCheckpointBench(options: CheckpointBenchOptions, log: (line: string) => void): Promise<CheckpointBenchResult> {
  const dir = mkdtempSync(join(options.dir, 'rectify-checkpoint-bench-'));
  try {
    const shapes = transformerShapes(options.params);
    const params = shapes.reduce((sum, s) => sum + s.size, 0);
    const rawBytes = params * 4 * 3;
    const file = join(dir, 'model.safetensors');
    log(`checkpoint bench: ${params} parameters in ${shapes.length} tensors, files in ${dir}`);
    log('disk: sequential write with fsync …');
    const diskBytesPerSecond = await diskWriteSpeed(join(dir, 'disk.bin'), rawBytes);
    const runs: CheckpointBackendRun[] = [];
    for (const backend of options.backends ?? CHECKPOINT_BACKENDS) {
      log(`${backend}: save …`);
      const save = await runChild(['save', file, String(options.params), backend]);
      const fileBytes = statSync(file).size;
      const info = await readCheckpoint(file);
      if (info?.container !== 'safetensors') throw new Error('the bench file is not a safetensors checkpoint');
      log(`${backend}: load …`);
      const load = await runChild(['load', file, String(options.params), backend]);
      rmSync(file);
      runs.push({
        backend,
        fileBytes,
        save,
        load,
        bitExact: { afterLoad: save.digest === load.digest, afterStep: save.digestAfterStep === load.digestAfterStep },
      });
    }
    log(`kill loop: ${options.kills} kills …`);
    const killLoopResult = await killLoop(dir, options.kills, log);
    return {
      machine: machineInfo(),
      params,
      tensors: shapes.length,
      largestTensorBytes: Math.max(...shapes.map((s) => s.size)) * 4,
      rawBytes,
      diskBytesPerSecond,
      runs,
      killLoop: killLoopResult,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
