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
  /** Lanes: lane `x` reduces elements `x, x + width, x + 2·width, …`. */
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
 * New second moment `v = β2·v + ((1−β2)·g)·g`, `g` prepared exactly as in
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
  // ((1 − β2)·g)·g, never g² first: g ≈ 1e20 overflows float32 in g², while the term
  // itself (≈ 1e37) fits. The parentheses survive into every transpiled language.
  return beta2 * v[i]! + (oneMinusBeta2 * gi) * gi;
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
  // A real branch, not `update · mask`: v may be infinite, and Infinity · 0 is NaN.
  if (rectified > 0.5) {
    update = update / (Math.sqrt(v[i]!) * denomScale + eps);
  }
  return p[i]! * paramScale - update;
}

/**
 * Overflow-free partial sums of squares, accumulated onto `acc`. Each of the `width`
 * lanes strides over `j = lane, lane + width, …` (adjacent lanes read adjacent elements:
 * coalesced on a GPU) and keeps its sum as a pair `(scale, ssq)` with
 * `Σ g² = scale² · ssq`: `scale` is the largest `|g|` the lane has seen and `ssq` the sum
 * of `(g / scale)²`, so `ssq` grows by at most 1 per element and never overflows float32,
 * whatever `|g|` (LAPACK's `snrm2` recurrence). The host adds `scale² · ssq` in float64.
 *
 * The output is `2 · width` wide, laid out like `acc`: scales in `[0, width)`, sums in
 * `[width, 2 · width)`, so chaining this kernel over every gradient continues each lane's
 * recurrence across tensors and one readback gives the global norm. A thread of the scale
 * half only tracks the running maximum; the comparisons are the same in both halves, so
 * both end on the same, exact scale.
 *
 * A NaN takes the rescaling branch (`!(a <= scale)`), which makes both numbers NaN; an
 * Infinity becomes the scale and the next element (or the host's `Inf²·ssq`) makes the
 * result non-finite. Zeros add nothing (and never divide 0 by 0).
 *
 * @example
 * ```ts
 * let acc = zeros2W; for (const g of grads) acc = await sumOfSquares[g.size](acc, g);
 * ```
 */
export function sumOfSquaresKernel(this: ReductionThis, acc: KernelArray, g: KernelArray): number {
  // Integer comparisons of the thread index only (no boolean or flag locals): the one
  // form every gpu.js target types the same way.
  let lane = this.thread.x;
  if (lane >= this.constants.width) {
    lane = lane - this.constants.width;
  }
  let scale = acc[lane]!;
  let ssq = acc[lane + this.constants.width]!;
  for (let k = 0; k < this.constants.iterations; k++) {
    const j = lane + k * this.constants.width;
    if (j < this.constants.size) {
      const a = Math.abs(g[j]!);
      if (!(a <= scale)) {
        if (this.thread.x >= this.constants.width) {
          const r = scale / a;
          ssq = 1 + ssq * r * r;
        }
        scale = a;
      } else if (this.thread.x >= this.constants.width) {
        if (a > 0) {
          const q = a / scale;
          ssq = ssq + q * q;
        }
      }
    }
  }
  if (this.thread.x >= this.constants.width) {
    return ssq;
  }
  return scale;
}

/**
 * Counts of non-finite elements, accumulated onto `acc` (`width` lanes) with the same
 * striding as {@link sumOfSquaresKernel}. `!(|x| <= FLT_MAX)` is true for ±Infinity and for NaN
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

/**
 * The finiteness flag of an update: counts of non-finite elements of the new parameter
 * and both new moments, accumulated onto `acc` like {@link nonFiniteCountKernel}. Run
 * once per updated tensor and chained over the whole step, it costs one more read of
 * what the update wrote (gpu.js kernels have one output, so the update kernels cannot
 * also emit the flag) and one 4 KiB readback per step.
 *
 * @example
 * ```ts
 * flags = await updateNonFiniteCount(flags, p1, m1, v1); // all zero: everything finite
 * ```
 */
export function updateNonFiniteCountKernel(
  this: ReductionThis,
  acc: KernelArray,
  p: KernelArray,
  m: KernelArray,
  v: KernelArray,
): number {
  let count = acc[this.thread.x]!;
  for (let k = 0; k < this.constants.iterations; k++) {
    const j = this.thread.x + k * this.constants.width;
    if (j < this.constants.size) {
      if (!(Math.abs(p[j]!) <= 3.4028234e38)) {
        count = count + 1;
      }
      if (!(Math.abs(m[j]!) <= 3.4028234e38)) {
        count = count + 1;
      }
      if (!(Math.abs(v[j]!) <= 3.4028234e38)) {
        count = count + 1;
      }
    }
  }
  return count;
}
