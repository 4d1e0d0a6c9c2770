/**
 * `pnpm bench`: RAdam step throughput of every backend, as a fraction of this machine's
 * roofline for RAdam's access pattern; `--models`: steps over real models' shapes. See
 * apps/bench/README.md for the options.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { USAGE, parseBenchArgs, type BenchArgs } from './args.js';
import { throughputChart } from './chart.js';
import { resultsMarkdown } from './markdown.js';
import { updateReadme } from './readme.js';
import { toJsonResult } from './results.js';
import { checkpointMarkdown, runCheckpointBench } from './checkpoint.js';
import { runBench } from './run-bench.js';
import { soakBackends, soakMarkdown } from './soak.js';
import { runModelsBench } from './models-bench.js';
import { modelsMarkdown } from './models-markdown.js';

const RESULTS_DIR = new URL('../results/', import.meta.url);
/** The READMEs that carry the results, each with the chart's path relative to it. */
const READMES = [
  { file: new URL('../README.md', import.meta.url), chart: 'results/throughput.svg' },
  { file: new URL('../../../README.md', import.meta.url), chart: 'apps/bench/results/throughput.svg' },
];
const SOAK_STEPS = 10_000;
const SOAK_SIZE = 10_000;

const logToStderr = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** `--json`: one object on stdout and nothing else (libraries that log go to stderr). */
async function printJson(args: BenchArgs): Promise<void> {
  const log = console.log;
  console.log = console.error;
  let results;
  try {
    results = await runBench(args, logToStderr);
  } finally {
    console.log = log;
  }
  const measurement = results.measurements[0];
  if (measurement === undefined) {
    throw new Error(`No result: ${results.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`);
  }
  process.stdout.write(`${JSON.stringify(toJsonResult(measurement))}\n`);
}

/**
 * The matrix (and the long runs with --soak; with --update-readme the models too):
 * results/results.{json,md}, results/throughput.svg, the tables on stdout, and with
 * --update-readme the results sections of both READMEs.
 */
async function runMatrix(args: BenchArgs): Promise<void> {
  const matrix = await runBench(args, logToStderr);
  const models = args.updateReadme
    ? await runModelsBench({ models: args.modelIds, timeMs: args.timeMs, roofline: matrix.roofline, ...(args.backends === undefined ? {} : { backends: args.backends }) }, logToStderr)
    : undefined;
  const results = models === undefined ? matrix : { ...matrix, models };
  let markdown = resultsMarkdown(results);
  if (models !== undefined) markdown += `\n\n### Real models' shapes (\`pnpm bench --models\`)\n\n${modelsMarkdown(models)}`;
  if (args.soak) {
    const rows = await soakBackends({ backends: args.backends, steps: SOAK_STEPS, size: SOAK_SIZE }, logToStderr);
    markdown += `\n\nLong runs: ${SOAK_STEPS} steps of ${SOAK_SIZE}-element tensors per backend (\`pnpm soak\`), ` +
      `memory growth after warm-up:\n\n${soakMarkdown(rows)}`;
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL('results.json', RESULTS_DIR), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(new URL('results.md', RESULTS_DIR), `# Benchmark results\n\n${markdown}\n\n![throughput](throughput.svg)\n`);
  await writeFile(new URL('throughput.svg', RESULTS_DIR), throughputChart(results));
  process.stdout.write(`${markdown}\n`);
  logToStderr(`wrote ${fileURLToPath(RESULTS_DIR)}{results.json,results.md,throughput.svg}`);
  if (args.updateReadme) {
    for (const { file, chart } of READMES) {
      await updateReadme(fileURLToPath(file), `${markdown}\n\n![Throughput against size per backend](${chart})`);
      logToStderr(`updated ${fileURLToPath(file)}`);
    }
  }
}

/** `--models`: results/models.{json,md} and the tables on stdout. */
async function runModels(args: BenchArgs): Promise<void> {
  const results = await runModelsBench({ models: args.modelIds, timeMs: args.timeMs, ...(args.backends === undefined ? {} : { backends: args.backends }) }, logToStderr);
  const markdown = modelsMarkdown(results);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL('models.json', RESULTS_DIR), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(new URL('models.md', RESULTS_DIR), `# Model workloads\n\n${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
  logToStderr(`wrote ${fileURLToPath(RESULTS_DIR)}models.{json,md}`);
}

/** `--checkpoint`: results/checkpoint.{json,md} and the figures on stdout. */
async function runCheckpoints(args: BenchArgs): Promise<void> {
  const result = await runCheckpointBench(
    { params: args.checkpointParams, kills: args.kills, dir: args.checkpointDir ?? tmpdir(), ...(args.backends === undefined ? {} : { backends: args.backends }) },
    logToStderr,
  );
  const markdown = checkpointMarkdown(result);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL('checkpoint.json', RESULTS_DIR), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(new URL('checkpoint.md', RESULTS_DIR), `# Checkpoint benchmark\n\n${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
  logToStderr(`wrote ${fileURLToPath(RESULTS_DIR)}checkpoint.{json,md}`);
  const inexact = result.runs.filter((run) => !run.bitExact.afterLoad || !run.bitExact.afterStep).map((run) => run.backend);
  if (inexact.length > 0) throw new Error(`the loaded state is not bit-exact on ${inexact.join(', ')}`);
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.checkpoint) await runCheckpoints(args);
  else if (args.models) await runModels(args);
  else if (args.json) await printJson(args);
  else await runMatrix(args);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
