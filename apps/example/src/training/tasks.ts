import type { Split } from '../data/dataset.js';
import { loadIris } from '../data/iris.js';
import { twoSpirals } from '../data/spirals.js';
import type { MlpArchitecture } from '../model/mlp.js';

/** A classification problem and the network the demo trains on it. */
export interface Task extends Split {
  /** Short id used in file names and tables: `iris`, `spirals`. */
  readonly id: string;
  /** Human title for charts. */
  readonly title: string;
  readonly model: MlpArchitecture;
}

/** Iris, 4 → 16 → 3: the main job. */
export function irisTask(seed: number): Task {
  return { id: 'iris', title: 'Iris (4 → 16 → 3 MLP)', model: { layers: [4, 16, 3] }, ...loadIris(seed) };
}

/** Two spirals, 2 → 24 → 24 → 2: the harder problem, which needs two hidden layers. */
export function spiralsTask(seed: number): Task {
  return { id: 'spirals', title: 'Two spirals (2 → 24 → 24 → 2 MLP)', model: { layers: [2, 24, 24, 2] }, ...twoSpirals(seed) };
}

/** Every task the demo knows, by id. */
export const TASKS: Readonly<Record<string, (seed: number) => Task>> = { iris: irisTask, spirals: spiralsTask };
