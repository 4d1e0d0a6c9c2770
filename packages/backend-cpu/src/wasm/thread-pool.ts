import type { KernelLayout } from './layout.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';

/** What a kernel worker is started with (posted or passed as `workerData`). */
export interface WorkerInit {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  /** Polls before it sleeps in `Atomics.wait`. */
  readonly spin: number;
}

/** A started kernel worker. */
export interface KernelWorker {
  /** Ends the worker (it may be in the middle of nothing but waiting). */
  terminate(): void;
}

/** Starts one kernel worker (Node's `worker_threads`, or a Web Worker) and resolves once it has instantiated the kernel. */
export type StartWorker = (init: WorkerInit) => Promise<KernelWorker>;

/**
 * How many times a waiting thread polls before it sleeps in `Atomics.wait`: about 50 µs
 * (a poll is an `Atomics.load`, some 6 ns in V8). Steps come back to back, and the host
 * work between two kernel calls (core's validation, the slot table) takes microseconds,
 * while a futex wake-up takes tens of them: polling for a little while makes the next job
 * start at once, and sleeping after that leaves the core to the rest of the program.
 */
export const SPIN_POLLS = 1 << 13;

/**
 * Whether this thread may sleep in `Atomics.wait`: Node's main thread and any worker may;
 * a page's main thread may not (the call throws there, so that a page never freezes).
 */
function threadMayWait(): boolean {
  try {
    // Returns 'not-equal' at once where waiting is allowed.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Worker threads that each run the kernel over the shared memory, driven through the
 * control block: the calling thread writes a job, publishes its number in GENERATION,
 * works on the job itself, then waits until every chunk is finished. That keeps the
 * backend synchronous. It never waits for a worker that has not woken up yet: the
 * kernel's claim protocol makes a late worker harmless, so the wait only lasts as long as
 * the chunks other threads took when the caller ran out of work (one chunk at most each).
 *
 * Where the calling thread may sleep (Node, a Web Worker) it polls, then sleeps in
 * `Atomics.wait`. On a page's main thread, where `Atomics.wait` throws, it only polls:
 * that wait is as short as above, and the alternative (returning a promise) would make
 * the backend asynchronous for every caller.
 */
export class ThreadPool {
  readonly #workers: readonly KernelWorker[];
  readonly #control: Int32Array;
  readonly #generation: number;
  readonly #stop: number;
  readonly #failed: number;
  readonly #chunksDone: number;
  readonly #spinPolls: number;
  readonly #mayWait = threadMayWait();
  #stopped = false;

  private constructor(workers: readonly KernelWorker[], memory: WasmMemory, layout: KernelLayout, spinPolls: number) {
    this.#workers = workers;
    this.#spinPolls = spinPolls;
    // The control words live in the first page, which is never reallocated: this view stays valid.
    this.#control = new Int32Array(memory.buffer, 0, 64);
    this.#generation = layout.GENERATION >> 2;
    this.#stop = layout.STOP >> 2;
    this.#failed = layout.FAILED >> 2;
    this.#chunksDone = layout.CHUNKS_DONE >> 2;
  }

  /**
   * Starts `count` workers over `memory` with `startWorker` and resolves once each has
   * instantiated the kernel.
   *
   * @param spinPolls - polls before sleeping: {@link SPIN_POLLS} when every thread has a
   *   core of its own, `0` when threads outnumber cores (a spinning thread would then take
   *   the core another thread needs to finish the job).
   */
  static async start(
    startWorker: StartWorker,
    module: WasmModule,
    memory: WasmMemory,
    layout: KernelLayout,
    count: number,
    spinPolls: number,
  ): Promise<ThreadPool> {
    const workers: KernelWorker[] = [];
    const pool = new ThreadPool(workers, memory, layout, spinPolls);
    const init: WorkerInit = { module, memory, spin: spinPolls };
    // Workers start in parallel: each instantiates the already compiled module. Every one
    // that started is stopped if another fails.
    const started = await Promise.allSettled(Array.from({ length: count }, () => startWorker(init)));
    for (const result of started) if (result.status === 'fulfilled') workers.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      pool.stop();
      throw failed.reason;
    }
    return pool;
  }

  /** Number of worker threads (the main thread works too, so a job runs on `size + 1` threads). */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Runs job number `job` (already written to the control block and opened with the
   * kernel's `beginJob`) on the main thread (`runHere`) and on every worker, and returns
   * when its `chunks` chunks are all finished. Throws if a thread trapped.
   */
  run(job: number, chunks: number, runHere: () => void): void {
    const control = this.#control;
    Atomics.store(control, this.#failed, 0);
    Atomics.store(control, this.#generation, job | 0);
    Atomics.notify(control, this.#generation);
    let failure: unknown;
    try {
      runHere();
    } catch (error) {
      failure = error;
    }
    // Chunks other threads took may still be running: the descriptor and the tensors must
    // stay as they are until those are done. Idle or late workers are not waited for.
    let polls = 0;
    for (;;) {
      const done = Atomics.load(control, this.#chunksDone);
      if (done >= chunks || Atomics.load(control, this.#failed) !== 0) break;
      if (failure !== undefined) break;
      if (++polls > this.#spinPolls && this.#mayWait) Atomics.wait(control, this.#chunksDone, done);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(control, this.#failed) !== 0) throw new Error('cpu-wasm: the kernel trapped in a worker thread.');
  }

  /** Makes every worker leave its loop and terminates it. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    Atomics.store(this.#control, this.#stop, 1);
    // A new value wakes the workers (they wait for GENERATION to change), and STOP ends their loop.
    Atomics.add(this.#control, this.#generation, 1);
    Atomics.notify(this.#control, this.#generation);
    for (const worker of this.#workers) worker.terminate();
  }
}
