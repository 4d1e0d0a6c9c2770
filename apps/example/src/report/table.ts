import Table from 'cli-table3';
import { REFERENCE_BACKEND } from '../training/backends.js';
import type { ExperimentResult } from '../training/experiment.js';

const HEAD = ['backend', 'dtype', 'final loss', 'train acc', 'test acc', 'steps/s', `max |Δθ| vs ${REFERENCE_BACKEND}`];

/** `x` in a short fixed or exponential form, whichever is readable. */
function formatNumber(x: number): string {
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(2);
}

/**
 * One row per backend: final training loss, train and test accuracy, optimizer steps per
 * second and the largest parameter difference from the cpu64 reference run. Skipped and
 * failed backends get a row that says why.
 */
export function resultTable(experiment: ExperimentResult): string {
  const widths = [18, 9, 12, 11, 10, 10, 20];
  const table = new Table({ head: HEAD, colWidths: widths, wordWrap: true, style: { head: [], border: [], compact: true } });
  for (const outcome of experiment.outcomes) {
    if (outcome.status === 'trained') {
      const r = outcome.result;
      table.push([
        outcome.backend,
        r.dtype,
        formatNumber(r.finalLoss),
        r.trainAccuracy.toFixed(3),
        r.testAccuracy.toFixed(3),
        Math.round(r.stepsPerSecond).toLocaleString('en-US'),
        formatNumber(outcome.maxParamDiff),
      ]);
    } else {
      table.push([outcome.backend, { colSpan: HEAD.length - 1, content: `${outcome.status}: ${outcome.reason}` }]);
    }
  }
  return table.toString();
}
