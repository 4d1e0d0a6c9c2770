#!/usr/bin/env node
/**
 * `pnpm reproduce [--quick] [--json] [--out <dir>]`: the RAdam paper's claim on real
 * digits. Progress goes to stderr; stdout carries the table, or with `--json` exactly
 * one JSON object.
 */
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { progressDisplay } from '@rectify/example/dist/report/progress.js';
import { FULL, QUICK, runGrid } from './grid.js';
import { markdownTable, toJson, writeReport } from './report.js';

const program = new Command('reproduce')
  .description("RAdam vs tfjs Adam, Adam with warm-up and SGD on the mnist package's digits")
  .option('--quick', 'one seed, two rates, 300 steps')
  .option('--json', 'print { runs: [...] } to stdout instead of the table')
  .option('--out <dir>', 'where the charts and table go (default: out/, or out/quick/ with --quick)')
  .parse();
const options = program.opts<{ quick?: boolean; json?: boolean; out?: string }>();
// The full grid's charts are committed (the README shows them); a quick run must not overwrite them.
const out = options.out ?? fileURLToPath(new URL(options.quick === true ? '../out/quick' : '../out', import.meta.url));

const started = performance.now();
const result = await runGrid(options.quick === true ? QUICK : FULL, progressDisplay(process.stderr));
const files = await writeReport(result, out);
process.stderr.write(`${result.runs.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s; wrote ${files.join(', ')}\n`);
process.stdout.write(options.json === true ? `${JSON.stringify(toJson(result.runs))}\n` : markdownTable(result.runs));
