import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** The machine's copy bandwidth, in bytes per second counted as bytes read plus bytes written. */
export interface CopyBandwidth {
  /** One thread copying with `TypedArray.prototype.set` (memcpy). */
  readonly singleThread: number;
  /** Every core copying its own buffers at once. */
  readonly allThreads: number;
  /** Threads of the `allThreads` figure. */
  readonly threads: number;
  /** The larger of the two: the bandwidth the roofline is drawn at. */
  readonly bytesPerSecond: number;
}

/** Bytes copied per round, over all threads: far beyond any last-level cache. */
const TOTAL_BYTES = 256 * 1024 * 1024;
const ROUNDS = 7;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function singleThread(): number {
  const src = new Float64Array(TOTAL_BYTES / 2 / 8).fill(1);
  const dst = new Float64Array(src.length).fill(2);
  dst.set(src);
  const seconds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    dst.set(src);
    seconds.push((performance.now() - start) / 1000);
  }
  return (2 * src.byteLength) / median(seconds);
}

// Each worker copies its own pair of buffers whenever GO moves, then counts itself in DONE.
const WORKER = `
const { workerData } = require('node:worker_threads');
const { control, bytes } = workerData;
const src = new Float64Array(bytes / 8).fill(1);
const dst = new Float64Array(bytes / 8).fill(2);
dst.set(src);
Atomics.add(control, 1, 1);
Atomics.notify(control, 1);
for (let seen = 0; ; ) {
  Atomics.wait(control, 0, seen);
  seen = Atomics.load(control, 0);
  if (seen < 0) break;
  dst.set(src);
  Atomics.add(control, 1, 1);
  Atomics.notify(control, 1);
}
`;

function waitFor(control: Int32Array, count: number): void {
  for (let done = Atomics.load(control, 1); done < count; done = Atomics.load(control, 1)) Atomics.wait(control, 1, done, 100);
}

async function allThreads(threads: number): Promise<number> {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const bytes = Math.floor(TOTAL_BYTES / 2 / threads / 64) * 64;
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, workerData: { control, bytes } }));
  try {
    // Wait, without blocking the event loop, until every worker has filled its buffers.
    while (Atomics.load(control, 1) < threads) await new Promise((resolve) => setTimeout(resolve, 5));
    const seconds: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const start = performance.now();
      Atomics.store(control, 0, round);
      Atomics.notify(control, 0);
      waitFor(control, threads * (round + 1));
      seconds.push((performance.now() - start) / 1000);
    }
    return (2 * bytes * threads) / median(seconds);
  } finally {
    Atomics.store(control, 0, -1);
    Atomics.notify(control, 0);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/**
 * Measures how fast this machine copies memory: one thread, then every core at once,
 * each over buffers far larger than the caches. A RAdam step moves 28 bytes per float32
 * element (reads p, g, m, v; writes p, m, v), so `bytesPerSecond / 28` is the most
 * elements per second any backend can update: the roofline.
 */
export async function measureCopyBandwidth(): Promise<CopyBandwidth> {
  const single = singleThread();
  const threads = availableParallelism();
  const all = threads > 1 ? await allThreads(threads) : single;
  return { singleThread: single, allThreads: all, threads, bytesPerSecond: Math.max(single, all) };
}
