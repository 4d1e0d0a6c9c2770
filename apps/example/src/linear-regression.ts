import { gaussian, seededRandom } from './random.js';

/** A synthetic regression task `y = X·w* + b* + noise`, with its mean-squared-error gradient. */
export interface RegressionTask {
  readonly features: number;
  readonly samples: number;
  /** Mean squared error of weights `w` and bias `b` on the whole set. */
  loss(w: ArrayLike<number>, b: ArrayLike<number>): number;
  /** Gradients of {@link RegressionTask.loss}, written into `gw` and `gb`. */
  gradients(w: ArrayLike<number>, b: ArrayLike<number>, gw: Float32Array, gb: Float32Array): void;
}

/** Builds a {@link RegressionTask} with `samples` rows of `features` standard-normal inputs. */
export function regressionTask(features: number, samples: number, seed: number): RegressionTask {
  const random = seededRandom(seed);
  const trueW = Array.from({ length: features }, () => gaussian(random) * 2);
  const trueB = gaussian(random);
  const x = Float64Array.from({ length: samples * features }, () => gaussian(random));
  const y = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    let dot = trueB + 0.05 * gaussian(random);
    for (let f = 0; f < features; f++) dot += x[s * features + f]! * trueW[f]!;
    y[s] = dot;
  }
  const residuals = (w: ArrayLike<number>, b: ArrayLike<number>): Float64Array => {
    const r = new Float64Array(samples);
    for (let s = 0; s < samples; s++) {
      let prediction = b[0]!;
      for (let f = 0; f < features; f++) prediction += x[s * features + f]! * w[f]!;
      r[s] = prediction - y[s]!;
    }
    return r;
  };
  return {
    features,
    samples,
    loss(w, b) {
      return residuals(w, b).reduce((sum, r) => sum + r * r, 0) / samples;
    },
    gradients(w, b, gw, gb) {
      const r = residuals(w, b);
      gw.fill(0);
      let bias = 0;
      for (let s = 0; s < samples; s++) {
        const scale = (2 * r[s]!) / samples;
        bias += scale;
        for (let f = 0; f < features; f++) gw[f]! += scale * x[s * features + f]!;
      }
      gb[0] = bias;
    },
  };
}
