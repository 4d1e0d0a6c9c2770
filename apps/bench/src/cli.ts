/**
 * `pnpm bench`: RAdam step throughput of every backend, as a fraction of this machine's
 * memory-bandwidth roofline. See apps/bench/README.md for the options.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { USAGE, parseBenchArgs, type BenchArgs } from './args.js';
import { throughputChart } from './chart.js';
import { resultsMarkdown } from './markdown.js';
import { updateReadme } from './readme.js';
import { toJsonResult } from './results.js';
import { runBench } from './run-bench.js';

const RESULTS_DIR = new URL('../results/', import.meta.url);
const README = new URL('../README.md', import.meta.url);

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

/** The matrix: results/results.{json,md}, results/throughput.svg, the table on stdout, and the README with --update-readme. */
async function runMatrix(args: BenchArgs): Promise<void> {
  const results = await runBench(args, logToStderr);
  const markdown = resultsMarkdown(results);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL('results.json', RESULTS_DIR), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(new URL('results.md', RESULTS_DIR), `# Benchmark results\n\n${markdown}\n\n![throughput](throughput.svg)\n`);
  await writeFile(new URL('throughput.svg', RESULTS_DIR), throughputChart(results));
  process.stdout.write(`${markdown}\n`);
  logToStderr(`wrote ${fileURLToPath(RESULTS_DIR)}{results.json,results.md,throughput.svg}`);
  if (args.updateReadme) {
    await updateReadme(fileURLToPath(README), `${markdown}\n\n![Throughput against size per backend](results/throughput.svg)`);
    logToStderr(`updated ${fileURLToPath(README)}`);
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.json) await printJson(args);
  else await runMatrix(args);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
