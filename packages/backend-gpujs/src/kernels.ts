/**
 * The gpu.js kernel functions. gpu.js stringifies these and transpiles them to WGSL, GLSL,
 * WebAssembly or JavaScript, so they use only its kernel subset: one output element per
 * call (`this.thread.x`), locals, `if`, bounded `for`, `Math.*`. No closures, no helpers,
 * no optional chaining; the `!` and type annotations vanish when TypeScript compiles.
 *
 * Every per-step number is a kernel *argument* (a uniform / params-buffer slot), never a
 * constant: constants are compiled in, and changing one would recompile the kernel.
 * Only the tensor size (fixed per kernel) is a constant.
 *
 * Flags are floats compared with `> 0.5` rather than booleans, because every gpu.js
 * backend passes floats the same way.
 */

/**
 * A kernel input: a typed array, GL texture or WebGPU buffer, indexed by element.
 *
 * @example
 * ```ts
 * const g: KernelArray = new Float32Array([0.1, -0.2]);
 * ```
 */
export type KernelArray = ArrayLike<number>;

/**
 * `this` inside an element-wise kernel.
 *
 * @example
 * ```ts
 * function double(this: ElementThis, a: KernelArray): number { return 2 * a[this.thread.x]!; }
 * ```
 */
export interface ElementThis {
  readonly thread: { readonly x: number };
}

/**
 * Compile-time constants of a strided reduction kernel (fixed per tensor size).
 *
 * @example
 * ```ts
 * const constants: ReductionConstants = { size: 5000, width: 1024, iterations: 5 };
 * ```
 */
export interface ReductionConstants {
  /** Elements in the reduced tensor. */
  readonly size: number;
  /** Output width: thread `x` reduces elements `x, x + width, x + 2·width, …`. */
  readonly width: number;
  /** `ceil(size / width)`: loop trips per thread. */
  readonly iterations: number;
}

/**
 * `this` inside a reduction kernel.
 *
 * @example
 * ```ts
 * function count(this: ReductionThis): number { return this.constants.iterations; }
 * ```
 */
export interface ReductionThis extends ElementThis {
  readonly constants: ReductionConstants;
}

/**
 * Identity copy: uploads a host array into a device texture/buffer on the GPU modes.
 *
 * @example
 * ```ts
 * gpu.createKernel(uploadKernel, { output: [n], pipeline: true })(hostArray); // Texture
 * ```
 */
export function uploadKernel(this: ElementThis, a: KernelArray): number {
  return a[this.thread.x]!;
}

/**
 * New first moment `m = β1·m + (1−β1)·g`, with `g` the gradient after scaling, value
 * clipping (when `clip > 0.5`) and coupled weight decay on the pre-step parameter.
 * The clip uses two comparisons, as core's reference kernel does, so a NaN gradient
 * stays NaN (the `nonFinite: 'propagate'` policy) instead of being clamped to a bound.
 *
 * @example
 * ```ts
 * const m1 = await firstMoment(g, p, m, gradScale, clip, clipValue, weightDecay, beta1, 1 - beta1);
 * ```
 */
export function firstMomentKernel(
  this: ElementThis,
  g: KernelArray,
  p: KernelArray,
  m: KernelArray,
  gradScale: number,
  clip: number,
  clipValue: number,
  weightDecay: number,
  beta1: number,
  oneMinusBeta1: number,
): number {
  const i = this.thread.x;
  let gi = g[i]! * gradScale;
  if (clip > 0.5) {
    if (gi > clipValue) {
      gi = clipValue;
    } else if (gi < -clipValue) {
      gi = -clipValue;
    }
  }
  gi = gi + weightDecay * p[i]!;
  return beta1 * m[i]! + oneMinusBeta1 * gi;
}

/**
 * New second moment `v = β2·v + (1−β2)·g²`, `g` prepared exactly as in
 * {@link firstMomentKernel}.
 *
 * @example
 * ```ts
 * const v1 = await secondMoment(g, p, v, gradScale, clip, clipValue, weightDecay, beta2, 1 - beta2);
 * ```
 */
export function secondMomentKernel(
  this: ElementThis,
  g: KernelArray,
  p: KernelArray,
  v: KernelArray,
  gradScale: number,
  clip: number,
  clipValue: number,
  weightDecay: number,
  beta2: number,
  oneMinusBeta2: number,
): number {
  const i = this.thread.x;
  let gi = g[i]! * gradScale;
  if (clip > 0.5) {
    if (gi > clipValue) {
      gi = clipValue;
    } else if (gi < -clipValue) {
      gi = -clipValue;
    }
  }
  gi = gi + weightDecay * p[i]!;
  return beta2 * v[i]! + oneMinusBeta2 * gi * gi;
}

/**
 * New parameter from the *new* moments: `p·paramScale − stepSize·m / (sqrt(v)·denomScale + eps)`
 * when `rectified > 0.5`, else `p·paramScale − stepSize·m`. Reading the new moments
 * (instead of recomputing them) keeps this kernel to three reads.
 *
 * @example
 * ```ts
 * const p1 = await param(p, m1, v1, paramScale, stepSize, rectified ? 1 : 0, denomScale, eps);
 * ```
 */
export function paramKernel(
  this: ElementThis,
  p: KernelArray,
  m: KernelArray,
  v: KernelArray,
  paramScale: number,
  stepSize: number,
  rectified: number,
  denomScale: number,
  eps: number,
): number {
  const i = this.thread.x;
  let update = stepSize * m[i]!;
  if (rectified > 0.5) {
    update = update / (Math.sqrt(v[i]!) * denomScale + eps);
  }
  return p[i]! * paramScale - update;
}

/**
 * Partial sums of squares, accumulated onto `acc`: thread `x` adds `g[j]²` for
 * `j = x, x + width, …` (adjacent threads read adjacent elements: coalesced on a GPU).
 * Chaining this kernel over every gradient and reading the `width` partials back once
 * gives the global norm with one readback per step, whatever the number of tensors.
 *
 * @example
 * ```ts
 * let acc = zeros; for (const g of grads) acc = await sumOfSquares[g.size](acc, g);
 * ```
 */
export function sumOfSquaresKernel(this: ReductionThis, acc: KernelArray, g: KernelArray): number {
  let sum = acc[this.thread.x]!;
  for (let k = 0; k < this.constants.iterations; k++) {
    const j = this.thread.x + k * this.constants.width;
    if (j < this.constants.size) {
      const x = g[j]!;
      sum = sum + x * x;
    }
  }
  return sum;
}

/**
 * Counts of non-finite elements, accumulated onto `acc` with the same striding as
 * {@link sumOfSquaresKernel}. `!(|x| <= FLT_MAX)` is true for ±Infinity and for NaN
 * (every comparison with NaN is false), without `isNaN`, which gpu.js lacks.
 *
 * @example
 * ```ts
 * acc = await nonFiniteCount(acc, tensor); // then read acc: all zero means finite
 * ```
 */
export function nonFiniteCountKernel(this: ReductionThis, acc: KernelArray, g: KernelArray): number {
  let count = acc[this.thread.x]!;
  for (let k = 0; k < this.constants.iterations; k++) {
    const j = this.thread.x + k * this.constants.width;
    if (j < this.constants.size) {
      if (!(Math.abs(g[j]!) <= 3.4028234e38)) {
        count = count + 1;
      }
    }
  }
  return count;
}
