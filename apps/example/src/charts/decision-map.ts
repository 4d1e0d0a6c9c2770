import type { Dataset } from '../data/dataset.js';
import { predictProbabilities, type HostParams, type MlpArchitecture } from '../model/mlp.js';
import type { DecisionCell, LabelledPoint } from './specs.js';

/**
 * A two-class, two-feature model's probability of class 1 on a `resolution × resolution`
 * grid covering `data` (with a margin): the background of a decision map.
 */
export function decisionCells(model: MlpArchitecture, params: HostParams, data: Dataset, resolution = 60): DecisionCell[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data.x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const margin = 0.1 * (hi - lo);
  lo -= margin;
  hi += margin;
  const size = (hi - lo) / resolution;
  const grid = new Float64Array(resolution * resolution * 2);
  for (let i = 0; i < resolution; i++) {
    for (let j = 0; j < resolution; j++) {
      grid[2 * (i * resolution + j)] = lo + (j + 0.5) * size;
      grid[2 * (i * resolution + j) + 1] = lo + (i + 0.5) * size;
    }
  }
  const rows = resolution * resolution;
  const probabilities = predictProbabilities(model, params, { x: grid, labels: new Uint8Array(rows), rows, features: 2, classes: 2 });
  return Array.from({ length: rows }, (_, k) => {
    const x = grid[2 * k]!;
    const y = grid[2 * k + 1]!;
    return { x: x - size / 2, x2: x + size / 2, y: y - size / 2, y2: y + size / 2, p: probabilities[2 * k + 1]! };
  });
}

/** The rows of a two-feature data set as labelled points. */
export function labelledPoints(data: Dataset, classNames: readonly string[]): LabelledPoint[] {
  return Array.from({ length: data.rows }, (_, r) => ({
    x: data.x[2 * r]!,
    y: data.x[2 * r + 1]!,
    label: classNames[data.labels[r]!] ?? String(data.labels[r]),
  }));
}
