/**
 * `pnpm demo`: trains a linear model on a synthetic regression set with RAdam on the CPU
 * backend and prints the loss falling, step by step.
 */
import { cpuBackend } from '@rectify/backend-cpu';
import { RAdam } from '@rectify/core';
import { regressionTask } from './linear-regression.js';

const FEATURES = 8;
const STEPS = 300;
const task = regressionTask(FEATURES, 256, 42);

const w = new Float32Array(FEATURES);
const b = new Float32Array(1);
const gw = new Float32Array(FEATURES);
const gb = new Float32Array(1);
const optimizer = new RAdam(cpuBackend(), { lr: 0.1 });
optimizer.registerTrainableWeights({ w, b });

console.log(`RAdam on the cpu backend: linear regression, ${FEATURES} features, ${task.samples} samples`);
console.log(' step        loss   lr');
for (let step = 0; step <= STEPS; step++) {
  if (step % 25 === 0) {
    console.log(`${String(step).padStart(5)}  ${task.loss(w, b).toExponential(3).padStart(10)}   ${optimizer.currentLr}`);
  }
  task.gradients(w, b, gw, gb);
  optimizer.step({ w: gw, b: gb });
}
