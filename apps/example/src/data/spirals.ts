import { gaussian, seededRandom } from '../random.js';
import { standardize, stratifiedSplit, type Split } from './dataset.js';

/** Options of {@link twoSpirals}. */
export interface SpiralOptions {
  /** Points on each arm (default 200). */
  readonly pointsPerClass?: number;
  /** Full turns of each arm (default 1.5). */
  readonly turns?: number;
  /** Standard deviation of the Gaussian noise added to each coordinate (default 0.04, radius 1). */
  readonly noise?: number;
  /** Share of the points held out for testing (default 0.25). */
  readonly testFraction?: number;
}

/**
 * Two interleaved spirals in the plane, one per class: arm `c` is the curve
 * `r(t) = t, θ(t) = 2π·turns·t + c·π` for `t` in `(0, 1]`, sampled evenly and jittered.
 * No straight line (nor a few) separates them, so a model needs its hidden layers: a harder
 * problem than Iris, where a linear classifier already does well.
 */
export function twoSpirals(seed: number, options: SpiralOptions = {}): Split {
  const { pointsPerClass = 200, turns = 1.5, noise = 0.04, testFraction = 0.25 } = options;
  const random = seededRandom(seed);
  const x = new Float64Array(2 * pointsPerClass * 2);
  const labels = new Uint8Array(2 * pointsPerClass);
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < pointsPerClass; i++) {
      const t = (i + 1) / pointsPerClass;
      const angle = 2 * Math.PI * turns * t + c * Math.PI;
      const row = c * pointsPerClass + i;
      x[2 * row] = t * Math.cos(angle) + noise * gaussian(random);
      x[2 * row + 1] = t * Math.sin(angle) + noise * gaussian(random);
      labels[row] = c;
    }
  }
  return standardize(stratifiedSplit(x, labels, 2, testFraction, random));
}
