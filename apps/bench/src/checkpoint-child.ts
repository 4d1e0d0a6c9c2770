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
import { fsyncSync, openSync, writeSync } from 'node:fs';
import { buildModel, stateDigest, stepModel, transformerShapes, type BenchModel } from './checkpoint-model.js';
import { startPeakMemory, type PeakMemory } from './peak-memory.js';

/** What a save or load process reports. */
export interface ChildReport extends PeakMemory {
  readonly seconds: number;
  /** {@link stateDigest} right after the call, and after one more step. */
  readonly digest: string;
  readonly digestAfterStep: string;
}

/** Times `call` and measures its peak memory above the current resident set. */
async function measure(model: BenchModel, call: () => Promise<unknown>): Promise<ChildReport> {
  const peak = startPeakMemory();
  const started = performance.now();
  await call();
  const seconds = (performance.now() - started) / 1000;
  const memory = peak.stop();
  const digest = await stateDigest(model);
  await stepModel(model, 3);
  return { seconds, ...memory, digest, digestAfterStep: await stateDigest(model) };
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
