/**
 * The loop of a kernel worker, as source text: Node runs it in an eval'd worker
 * (`node-host.ts`), a browser from a Blob URL (`web-host.ts`), each with a few lines of
 * its own around it. Text rather than a file, so that the same code runs whether the
 * backend was loaded from `dist/`, from its TypeScript sources (tests) or from an
 * application's bundle, with no path for a bundler to resolve or a server to serve.
 *
 * Only how the worker gets the module and memory, and how it says it is ready, differ
 * (the loop's `ready` argument). The loop instantiates the kernel over the shared
 * memory, then: wait until the main thread publishes a new job number in GENERATION, run
 * that job (the kernel takes chunks until none is left, and returns at once if the job is
 * already over), wake the main thread waiting on CHUNKS_DONE, and wait again. It polls
 * briefly before sleeping in `Atomics.wait` (allowed in any worker), because back-to-back
 * kernel calls arrive within microseconds and a wake-up costs tens of them (more in a
 * virtual machine). A trap in the kernel is recorded in FAILED (never thrown), so the
 * main thread, waiting on CHUNKS_DONE, always returns.
 */
export const KERNEL_LOOP = `function kernelLoop({ module, memory, spin }, ready) {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const run = instance.exports.run;
  const at = (name) => instance.exports[name].value >> 2;
  const GENERATION = at('GENERATION');
  const STOP = at('STOP');
  const CHUNKS_DONE = at('CHUNKS_DONE');
  const FAILED = at('FAILED');
  const control = new Int32Array(memory.buffer, 0, 64);
  let seen = Atomics.load(control, GENERATION);
  ready();
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
}`;
