import type * as tf from '@tensorflow/tfjs';
import {
  RectifyError,
  createScheduler,
  type LearningRateScheduler,
  type NonFinitePolicy,
  type RAdamOptions,
  type ResolvedGroupOptions,
} from '@rectify/core';

/** Every option of core's `RAdam` other than `lr`, as `getConfig()` writes them. */
const OPTION_KEYS = [
  'betas',
  'eps',
  'weightDecay',
  'decoupledWeightDecay',
  'gradClipNorm',
  'gradClipValue',
  'threshold',
  'compat',
  'maximize',
  'nonFinite',
] as const;

/**
 * JSON with every `_` written as the escape `\u005f`.
 *
 * tfjs-layers passes a loaded model's optimizer config through `convertPythonicToTs`,
 * which camel-cases every string holding an underscore (`'exp_range'` → `'expRange'`).
 * Outside strings JSON has no underscore, and inside them `\u005f` parses back to `_`, so
 * the text survives that conversion and `JSON.parse` restores it exactly.
 */
function underscoreFreeJson(value: unknown): string {
  return JSON.stringify(value).replace(/_/g, '\\u005f');
}

/**
 * The optimizer's options as a tfjs `ConfigDict`: plain numbers, booleans, strings and
 * lists (none of them containing `_`), plus the scheduler (its spec and its progress) as
 * one JSON string under `scheduler`, or `null`. `lr` is the current learning rate
 * (informational when a scheduler drives it).
 *
 * @example
 * ```ts
 * configFromOptions(radam.options, undefined, radam.currentLr);
 * // { lr: 0.001, scheduler: null, betas: [0.9, 0.999], eps: 1e-8, … }
 * ```
 */
export function configFromOptions(
  options: ResolvedGroupOptions & { readonly nonFinite: NonFinitePolicy },
  scheduler: LearningRateScheduler | undefined,
  currentLr: number,
): tf.serialization.ConfigDict {
  return {
    lr: typeof options.lr === 'number' ? options.lr : currentLr,
    scheduler:
      scheduler === undefined ? null : underscoreFreeJson({ spec: scheduler.toSpec(), state: scheduler.stateDict() }),
    betas: [options.betas[0], options.betas[1]],
    eps: options.eps,
    weightDecay: options.weightDecay,
    decoupledWeightDecay: options.decoupledWeightDecay,
    gradClipNorm: options.gradClipNorm,
    gradClipValue: options.gradClipValue,
    threshold: options.threshold,
    compat: options.compat,
    maximize: options.maximize,
    nonFinite: options.nonFinite,
  };
}

/** Rebuilds a scheduler, progress included, from the `scheduler` entry of a config. */
function schedulerFromConfig(text: string): LearningRateScheduler {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RectifyError('INVALID_OPTION', 'The optimizer config entry "scheduler" is not valid JSON.', 'scheduler');
  }
  const { spec, state } = (parsed ?? {}) as { spec?: unknown; state?: unknown };
  if (typeof spec !== 'object' || spec === null || typeof state !== 'object' || state === null) {
    throw new RectifyError('INVALID_OPTION', 'The optimizer config entry "scheduler" must hold { spec, state }.', 'scheduler');
  }
  const scheduler = createScheduler(spec as never);
  scheduler.loadStateDict(state as never);
  return scheduler;
}

/**
 * Core `RAdam` options from a config written by {@link configFromOptions}. Keys it does
 * not know are ignored: tfjs-layers adds its own (`customObjects`) when deserialising.
 * Values are validated by core when the optimizer is built.
 *
 * @throws RectifyError `INVALID_OPTION` for a malformed `scheduler` entry, or any error
 *   of `createScheduler`.
 * @example
 * ```ts
 * new RAdam(backend, optionsFromConfig({ lr: 0.01, betas: [0.9, 0.99] }));
 * ```
 */
export function optionsFromConfig(config: tf.serialization.ConfigDict): RAdamOptions {
  const options: Record<string, unknown> = {};
  for (const key of OPTION_KEYS) {
    if (config[key] !== undefined) options[key] = config[key];
  }
  if (typeof config['scheduler'] === 'string') options['lr'] = schedulerFromConfig(config['scheduler']);
  else if (config['lr'] !== undefined && config['lr'] !== null) options['lr'] = config['lr'];
  return options as RAdamOptions;
}
