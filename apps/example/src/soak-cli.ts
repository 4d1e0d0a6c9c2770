/**
 * `pnpm soak [--backends cpu,onnx] [--steps 10000] [--size 10000]`: long runs with flat
 * memory. Runs every available backend for many steps and prints what grew: RSS, heap and
 * the backend's own resource counts (tensors, textures, sessions). Exits 1 on growth.
 */
import { backendEntries } from '@rectify/all-backends';
import { runSoak } from '@rectify/conformance';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    backends: { type: 'string' },
    steps: { type: 'string', default: '10000' },
    size: { type: 'string', default: '10000' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: pnpm soak [--backends a,b] [--steps N] [--size N]   (run node with --expose-gc for exact heap figures)');
  process.exit(0);
}
const wanted = values.backends?.split(',');
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1).padStart(7);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
let grew = false;
console.log('backend          steps   steps/s   RSS +MiB  heap +MiB  resources (after step 1 → end → after dispose)');
for (const entry of backendEntries) {
  if (wanted !== undefined && !wanted.includes(entry.name)) continue;
  const reason = await entry.unavailableReason();
  if (reason !== undefined) {
    console.log(`${entry.name.padEnd(15)}  skipped: ${reason}`);
    continue;
  }
  const result = await runSoak(entry.create, { steps: Number(values.steps), size: Number(values.size) });
  const { afterFirstStep, atEnd, afterDispose, beforeOptimizer } = result.resources;
  const flat = same(afterFirstStep, atEnd) && same(beforeOptimizer, afterDispose);
  grew ||= !flat;
  console.log(
    `${entry.name.padEnd(15)} ${String(result.steps).padStart(6)} ${result.stepsPerSecond.toFixed(0).padStart(9)}  ${mib(result.rssGrowthBytes)}    ${mib(result.heapGrowthBytes)}  ` +
      `${JSON.stringify(afterFirstStep ?? {})} → ${JSON.stringify(atEnd ?? {})} → ${JSON.stringify(afterDispose ?? {})}${flat ? '' : '  GREW'}`,
  );
}
process.exitCode = grew ? 1 : 0;
