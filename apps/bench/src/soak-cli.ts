/**
 * `pnpm soak [--backends cpu,onnx] [--steps 10000] [--size 10000]`: long runs with flat
 * memory. Runs every available backend for many steps and prints what grew: RSS, heap and
 * the backend's own resource counts (tensors, textures, sessions). Exits 1 on growth.
 */
import { parseArgs } from 'node:util';
import { isFlat, soakBackends, soakMarkdown } from './soak.js';

const { values } = parseArgs({
  options: {
    backends: { type: 'string' },
    steps: { type: 'string', default: '10000' },
    size: { type: 'string', default: '10000' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: pnpm soak [--backends a,b] [--steps N] [--size N]   (runs node with --expose-gc for exact heap figures, --no-liftoff: see NODE_BENCH_FLAGS)');
} else {
  const rows = await soakBackends(
    { backends: values.backends?.split(','), steps: Number(values.steps), size: Number(values.size) },
    (line) => process.stderr.write(`${line}\n`),
  );
  console.log(soakMarkdown(rows));
  process.exitCode = rows.some((row) => 'result' in row && !isFlat(row.result)) ? 1 : 0;
}
