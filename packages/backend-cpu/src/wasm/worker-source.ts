/**
 * The code of a kernel worker, run with `new Worker(WORKER_SOURCE, { eval: true })`.
 *
 * It is a string rather than a file so that the same code runs whether the backend was
 * loaded from `dist/` or from its TypeScript sources (tests), with no path to resolve.
 * An eval'd worker is a CommonJS script: it uses `require`.
 *
 * The worker instantiates the kernel over the shared memory, then loops: wait until the
 * main thread publishes a new job number in GENERATION, run that job (the kernel takes
 * chunks until none is left, and returns at once if the job is already over), wake the
 * main thread waiting on CHUNKS_DONE, and wait again. It polls briefly before sleeping in
 * `Atomics.wait`, because back-to-back kernel calls arrive within microseconds and a
 * wake-up costs tens of them (more in a virtual machine). A trap in the kernel is recorded
 * in FAILED (never thrown), so the main thread, blocked on CHUNKS_DONE, always returns.
 */
export const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { module, memory, spin } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const run = instance.exports.run;
const at = (name) => instance.exports[name].value >> 2;
const GENERATION = at('GENERATION');
const STOP = at('STOP');
const CHUNKS_DONE = at('CHUNKS_DONE');
const FAILED = at('FAILED');
const control = new Int32Array(memory.buffer, 0, 64);
let seen = Atomics.load(control, GENERATION);
parentPort.postMessage('ready');
for (;;) {
  let spins = 0;
  while (Atomics.load(control, GENERATION) === seen) {
    if (++spins > spin) Atomics.wait(control, GENERATION, seen);
  }
  seen = Atomics.load(control, GENERATION);
  if (Atomics.load(control, STOP) !== 0) break;
  try {
    run(seen >>> 0);
  } catch (error) {
    Atomics.store(control, FAILED, 1);
  }
  Atomics.notify(control, CHUNKS_DONE);
}
`;
