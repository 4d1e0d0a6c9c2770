import { shuffled } from '../random.js';

/** A labelled classification set in float64: `rows` samples of `features` numbers, row-major. */
export interface Dataset {
  /** Inputs, `rows × features`, row-major. */
  readonly x: Float64Array;
  /** Class of each row, `0 … classes − 1`. */
  readonly labels: Uint8Array;
  readonly rows: number;
  readonly features: number;
  readonly classes: number;
}

/** A fixed train/test split of one data set. */
export interface Split {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** The rows `indices` of a table of `features` columns, as a {@link Dataset}. */
function pick(x: ArrayLike<number>, labels: ArrayLike<number>, features: number, classes: number, indices: readonly number[]): Dataset {
  const out = new Float64Array(indices.length * features);
  const outLabels = new Uint8Array(indices.length);
  indices.forEach((row, i) => {
    for (let f = 0; f < features; f++) out[i * features + f] = x[row * features + f]!;
    outLabels[i] = labels[row]!;
  });
  return { x: out, labels: outLabels, rows: indices.length, features, classes };
}

/**
 * Splits a table into train and test sets with the same class proportions: from each
 * class, a seeded shuffle sends `testFraction` of its rows (rounded) to the test set.
 * Rows keep their original order inside each set, so the split depends only on `random`.
 */
export function stratifiedSplit(
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  features: number,
  testFraction: number,
  random: () => number,
): Split {
  const classes = Math.max(...Array.from(labels)) + 1;
  const train: number[] = [];
  const test: number[] = [];
  for (let c = 0; c < classes; c++) {
    const members = Array.from(labels, (label, row) => (label === c ? row : -1)).filter((row) => row >= 0);
    const held = Math.round(members.length * testFraction);
    shuffled(members, random).forEach((row, i) => (i < held ? test : train).push(row));
  }
  const byRow = (a: number, b: number): number => a - b;
  return {
    train: pick(x, labels, features, classes, train.sort(byRow)),
    test: pick(x, labels, features, classes, test.sort(byRow)),
  };
}

/**
 * Standardises every feature to mean 0 and standard deviation 1, with the mean and
 * deviation of the training set only (the test set must not leak into preprocessing).
 */
export function standardize(split: Split): Split {
  const { train } = split;
  const mean = new Float64Array(train.features);
  const std = new Float64Array(train.features);
  for (let f = 0; f < train.features; f++) {
    let sum = 0;
    for (let r = 0; r < train.rows; r++) sum += train.x[r * train.features + f]!;
    mean[f] = sum / train.rows;
    let squares = 0;
    for (let r = 0; r < train.rows; r++) squares += (train.x[r * train.features + f]! - mean[f]!) ** 2;
    // A constant feature keeps its scale instead of dividing by zero.
    std[f] = Math.sqrt(squares / train.rows) || 1;
  }
  const apply = (set: Dataset): Dataset => ({
    ...set,
    x: set.x.map((value, i) => (value - mean[i % set.features]!) / std[i % set.features]!),
  });
  return { train: apply(split.train), test: apply(split.test) };
}
