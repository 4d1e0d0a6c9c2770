/**
 * `pnpm schedule '<scheduler spec JSON>' [--epochs N]`: prints a scheduler's learning rate
 * against the epoch, as a chart and a table, before you train with it.
 */
import { RectifyError, type SchedulerSpec } from '@rectify/core';
import asciichart from 'asciichart';
import { parseArgs } from 'node:util';
import { scheduleCurve } from './schedule-curve.js';

const HELP = `usage: pnpm schedule '<spec>' [--epochs N] [--metrics 1,0.9,...]

  <spec>       a scheduler spec, e.g. '{"scheduler":"OneCycleLR","args":{"maxLr":0.1,"totalSteps":60}}'
  --epochs     how many times to call step() (default 60)
  --metrics    comma-separated metrics for step(metric) (ReduceLROnPlateau)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    epochs: { type: 'string', default: '60' },
    metrics: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || positionals.length !== 1) {
  console.log(HELP);
  process.exit(values.help ? 0 : 2);
}
try {
  const spec = JSON.parse(positionals[0]!) as SchedulerSpec;
  const epochs = Number(values.epochs);
  const metrics = values.metrics?.split(',').map(Number);
  const curve = scheduleCurve(spec, epochs, metrics);
  const groups = curve[0]!.length;
  console.log(`${spec.scheduler} over ${epochs} epochs (${groups} group${groups > 1 ? 's' : ''})\n`);
  const series = Array.from({ length: groups }, (_, g) => curve.map((rates) => rates[g]!));
  console.log(asciichart.plot(series, { height: 14, format: (x: number) => x.toExponential(2).padStart(10) }));
  console.log('\n epoch  lr');
  const every = Math.max(1, Math.ceil(epochs / 20));
  curve.forEach((rates, epoch) => {
    if (epoch % every === 0 || epoch === epochs) {
      console.log(`${String(epoch).padStart(6)}  ${rates.map((r) => r.toPrecision(6)).join('  ')}`);
    }
  });
} catch (error) {
  const code = error instanceof RectifyError ? ` [${error.code}]` : '';
  console.error(`error${code}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
