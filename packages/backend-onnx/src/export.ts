import { writeFile } from 'node:fs/promises';
import { buildRAdamStepModel, type PortableModelOptions, type PortableStepOptions } from './portable-step-graph.js';

/**
 * Writes RAdam's step for one parameter tensor, with `options` baked in, as an `.onnx`
 * file that any ONNX Runtime can run (Python, C++, C#, Java, web). The graph is
 * {@link buildRAdamStepModel}'s: inputs `param, grad, m, v` (any shape), `lr` (float64
 * scalar), `step` (int64 scalar, 1-based) and, with `gradClipNorm`, `grad_norm` (float64
 * scalar: the global norm over every gradient of the step); outputs `param_out, m_out,
 * v_out`. Standard operators of opset 17 only, IR version 8.
 *
 * @param options - RAdam options except `lr` (betas, eps, weightDecay, decoupledWeightDecay,
 *   gradClipNorm, gradClipValue, threshold, compat, maximize), validated as `RAdam` does.
 * @param path - where to write the file (overwritten if it exists).
 * @throws RectifyError `INVALID_OPTION` for an invalid option or for `lr`.
 * @example
 * ```ts
 * await exportRAdamStep({ weightDecay: 1e-2, decoupledWeightDecay: true }, 'radam_step.onnx');
 * ```
 * ```python
 * import numpy as np, onnxruntime as ort
 * sess = ort.InferenceSession("radam_step.onnx")
 * m = np.zeros_like(p); v = np.zeros_like(p)
 * for t in range(1, 101):
 *     p, m, v = sess.run(None, {"param": p, "grad": grad_of(p), "m": m, "v": v,
 *                               "lr": np.array(1e-3), "step": np.array(t, dtype=np.int64)})
 * ```
 */
export async function exportRAdamStep(
  options: PortableStepOptions,
  path: string,
  modelOptions: PortableModelOptions = {},
): Promise<void> {
  await writeFile(path, buildRAdamStepModel(options, modelOptions));
}
