import type { RAdamScalars } from '../backend.js';
import type { ResolvedGroupOptions } from '../options.js';

/** What a stage may look at when planning one step of one batch of tensors. */
export interface StageContext {
  /** The group's validated hyperparameters. */
  readonly options: ResolvedGroupOptions;
  /** The learning rate of this step. */
  readonly lr: number;
  /** The tensors' step count after this step (`t`, starting at 1). */
  readonly step: number;
  /** `sqrt(Σ g²)` over every gradient of this step; `undefined` when no group clips by norm. */
  readonly globalNorm: number | undefined;
}

/**
 * One transform of the RAdam pipeline, in the spirit of optax: it adjusts the scalars its
 * own job owns and passes the rest through. Stages run on the host in float64 once per
 * step; the backend then applies the finished {@link RAdamScalars} in one fused pass.
 */
export type ScalarStage = (scalars: RAdamScalars, context: StageContext) => RAdamScalars;

/** The scalars of a step that does nothing: every stage starts from here. */
export const IDENTITY_SCALARS: RAdamScalars = Object.freeze({
  gradScale: 1,
  clipValue: Infinity,
  weightDecay: 0,
  paramScale: 1,
  beta1: 0,
  beta2: 0,
  rectified: false,
  stepSize: 0,
  denomScale: 1,
  eps: 0,
});
