/**
 * The model workloads of `pnpm bench --models`: real models' parameter shapes, in
 * apps/bench/models/*.json, each with its architecture and where its numbers come from.
 */
import { readFileSync } from 'node:fs';

/** One parameter tensor of a model. */
export interface ModelTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A model's parameter shapes (one models/*.json file). */
export interface ModelShapes {
  /** The file's name without `.json`: what `--model` takes. */
  readonly id: string;
  readonly name: string;
  readonly architecture: string;
  /** Where the shapes and the published figures come from. */
  readonly source: string;
  /** The published tensor and parameter counts the shapes must add up to. */
  readonly published: { readonly tensors: number; readonly parameters: number };
  readonly tensors: readonly ModelTensor[];
}

/** Every model file, in the order the bench runs them. */
export const MODEL_IDS = ['gpt2-small', 'resnet50', 'mlp', 'tiny-1000x10'] as const;

/** Reads models/<id>.json; throws naming the file and what is wrong with it. */
export function loadModel(id: string): ModelShapes {
  if (!(MODEL_IDS as readonly string[]).includes(id)) throw new Error(`Unknown model "${id}". Known: ${MODEL_IDS.join(', ')}.`);
  const file = new URL(`../models/${id}.json`, import.meta.url);
  const json = JSON.parse(readFileSync(file, 'utf8')) as Omit<ModelShapes, 'id' | 'tensors'> & { tensors: [string, number[]][] };
  const tensors = json.tensors.map(([name, shape]) => {
    if (typeof name !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new Error(`models/${id}.json: bad tensor entry ${JSON.stringify([name, shape])}`);
    }
    return { name, shape };
  });
  return { id, name: json.name, architecture: json.architecture, source: json.source, published: json.published, tensors };
}

/** Elements of each tensor, in order. */
export function tensorSizes(model: ModelShapes): number[] {
  return model.tensors.map((t) => t.shape.reduce((product, d) => product * d, 1));
}

/** Parameters of the model: every tensor's elements. */
export function parameterCount(model: ModelShapes): number {
  return tensorSizes(model).reduce((sum, size) => sum + size, 0);
}
