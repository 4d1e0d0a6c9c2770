/**
 * The processes of `pnpm bench --checkpoint` (started by checkpoint.ts, one per
 * measurement, so that each one's memory is its own):
 *
 *   checkpoint-child.js save <file> <params> <backend>   build, train, save: JSON on stdout
 *   checkpoint-child.js load <file> <params> <backend>   build another, load: JSON on stdout
 *   checkpoint-child.js writer <file> <log> <params>
 *       resume from <file> if there is one, then save version after version forever,
 *       logging "start <version> <digest>" before each save and "done <version>" after it.
 */
import { loadCheckpoint, saveCheckpoint } from '@rectify/core/node';
import { fsyncSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { buildModel, stateDigest, stepModel, transformerShapes, type BenchModel } from './checkpoint-model.js';

/** What a save or load process reports. */
export interface ChildReport {
  readonly seconds: number;
  /** Peak resident memory during the call above the resident memory just before it. */
  readonly peakExtraBytes: number;
  /** How the peak was measured: the kernel's high-water mark, or sampling every millisecond. */
  readonly peakMethod: 'VmHWM' | 'sampled';
  /** The resident memory before the call: the optimizer's own memory and Node's. */
  readonly baselineRssBytes: number;
  /** {@link stateDigest} right after the call, and after one more step. */
  readonly digest: string;
  readonly digestAfterStep: string;
}

/** Resets the kernel's peak-RSS counter (Linux), so that VmHWM tells the peak of what follows. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function highWaterMark(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Times `call` and measures its peak memory above the current resident set. */
async function measure(model: BenchModel, call: () => Promise<unknown>): Promise<ChildReport> {
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage.rss();
  const kernel = resetPeak();
  let sampled = baseline;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 1);
  const started = performance.now();
  await call();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const mark = kernel ? highWaterMark() : undefined;
  const peak = mark ?? Math.max(sampled, process.memoryUsage.rss());
  const digest = await stateDigest(model);
  await stepModel(model, 3);
  return {
    seconds,
    peakExtraBytes: Math.max(0, peak - baseline),
    peakMethod: mark === undefined ? 'sampled' : 'VmHWM',
    baselineRssBytes: baseline,
    digest,
    digestAfterStep: await stateDigest(model),
  };
}

async function writer(file: string, log: string, params: number): Promise<never> {
  const model = await buildModel(transformerShapes(params), { seed: 1 });
  const saved = await loadCheckpoint<{ version: number }>(file, model.opt);
  const out = openSync(log, 'a');
  const line = (text: string): void => {
    writeSync(out, `${text}\n`);
    fsyncSync(out); // on disk before the save it announces
  };
  process.stdout.write('ready\n');
  for (let version = (saved?.version ?? 0) + 1; ; version++) {
    await stepModel(model, version);
    line(`start ${version} ${await stateDigest(model)}`);
    await saveCheckpoint(file, model.opt, { version }, { includeParams: true });
    line(`done ${version}`);
  }
}

async function main(): Promise<void> {
  const [mode, file, ...rest] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: checkpoint-child.js save|load|writer <file> …');
  if (mode === 'writer') await writer(file, rest[0]!, Number(rest[1]));
  const shapes = transformerShapes(Number(rest[0]));
  const backend = rest[1] ?? 'cpu';
  let report: ChildReport;
  if (mode === 'save') {
    const model = await buildModel(shapes, { seed: 1 }, backend);
    await stepModel(model, 2);
    report = await measure(model, () => saveCheckpoint(file, model.opt, { bench: true }, { includeParams: true }));
  } else if (mode === 'load') {
    const model = await buildModel(shapes, { fill: 0 }, backend);
    report = await measure(model, () => loadCheckpoint(file, model.opt));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main();
