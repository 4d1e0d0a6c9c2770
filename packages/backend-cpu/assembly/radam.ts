// Rectify's WebAssembly kernel: a fused RAdam step, a sum of squares and a finiteness
// check over a table of float32 tensors in a shared memory. The main thread and every
// worker call `run(job)` on their own instance of this module over the same memory; each
// thread takes chunks of the job's global element range until none is left. Chunk
// boundaries depend only on the job (never on the thread count), and every element's
// arithmetic is independent of the others, so the result is bitwise the same whether one
// thread or eight did the work.
import {
  CHUNKS_DONE, CLAIM, JOB_CHUNKS, JOB_CHUNK_ELEMENTS, JOB_KIND, JOB_NON_FINITE, JOB_RESULTS, JOB_SLOTS,
  JOB_TABLE, JOB_TOTAL, KIND_ALL_FINITE, KIND_RADAM, KIND_SUM_OF_SQUARES, SLOT_BEGIN, SLOT_BYTES, SLOT_END,
  SLOT_G, SLOT_M, SLOT_P, SLOT_SCALARS, SLOT_V,
} from './layout';
import { allFiniteSpan, radamSpan, sumOfSquaresSpan } from './kernels';

// The layout, exported as globals: the JavaScript side reads addresses from here.
export {
  GENERATION, STOP, FAILED, CHUNKS_DONE, CLAIM, JOB_KIND, JOB_TABLE, JOB_SLOTS, JOB_CHUNKS,
  JOB_CHUNK_ELEMENTS, JOB_RESULTS, JOB_NON_FINITE, JOB_TOTAL, SCALARS_BYTES,
  SCALAR_GRAD_SCALE, SCALAR_CLIP_VALUE, SCALAR_WEIGHT_DECAY, SCALAR_PARAM_SCALE, SCALAR_BETA1,
  SCALAR_ONE_MINUS_BETA1, SCALAR_BETA2, SCALAR_ONE_MINUS_BETA2, SCALAR_STEP_SIZE,
  SCALAR_DENOM_SCALE, SCALAR_EPS, SCALAR_RECTIFIED, KIND_RADAM, KIND_SUM_OF_SQUARES, KIND_ALL_FINITE,
  SLOT_BYTES, SLOT_P, SLOT_G, SLOT_M, SLOT_V, SLOT_BEGIN, SLOT_END, SLOT_SCALARS, RESERVED_BYTES,
} from './layout';

const NO_CHUNK: u32 = 0xffffffff;

/**
 * Opens job number `job` for claiming, from chunk 0. The main thread calls it after
 * writing the job descriptor and before publishing the job to the workers.
 */
export function beginJob(job: u32): void {
  atomic.store<i32>(CHUNKS_DONE, 0);
  atomic.store<u64>(CLAIM, <u64>job << 32);
}

/** Takes the next chunk of job `job`, or returns NO_CHUNK when none is left or the job is over. */
@inline
function claim(job: u32, chunks: u32): u32 {
  let word = atomic.load<u64>(CLAIM);
  while (<u32>(word >>> 32) == job && <u32>word < chunks) {
    const seen = atomic.cmpxchg<u64>(CLAIM, word, word + 1);
    if (seen == word) return <u32>word;
    word = seen;
  }
  return NO_CHUNK;
}

/** Counts a chunk as finished: the main thread returns once all are. */
@inline
function finished(): void {
  atomic.add<i32>(CHUNKS_DONE, 1);
}

/** Index of the first slot whose range ends after global element `index` (binary search). */
function firstSlotAfter(table: usize, slots: u32, index: u32): u32 {
  let low: u32 = 0;
  let high: u32 = slots;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (load<u32>(table + <usize>mid * SLOT_BYTES + SLOT_END) > index) high = mid;
    else low = mid + 1;
  }
  return low;
}

// Every function below reads the descriptor first, then touches memory only through
// chunks it has claimed: a successful claim proves the descriptor it read is this job's
// (the next one is written only after every chunk of this one is finished).

function runRAdam(job: u32, chunks: u32): void {
  const table = <usize>load<u32>(JOB_TABLE);
  const slots = load<u32>(JOB_SLOTS);
  const chunkElements = load<u32>(JOB_CHUNK_ELEMENTS);
  const total = load<u32>(JOB_TOTAL);
  for (;;) {
    const claimed = claim(job, chunks);
    if (claimed == NO_CHUNK) return;
    // Last chunk first: the finiteness scan or the norm that core runs just before reads
    // every gradient front to back, so the cache still holds the last ones; the update
    // reads those before they are evicted (on models larger than the cache too).
    const chunk = chunks - 1 - claimed;
    let index = chunk * chunkElements;
    const end = min(index + chunkElements, total);
    let slot = firstSlotAfter(table, slots, index);
    let finite = true;
    while (index < end) {
      const entry = table + <usize>slot * SLOT_BYTES;
      const begin = load<u32>(entry + SLOT_BEGIN);
      const from = index - begin;
      const to = min(end, load<u32>(entry + SLOT_END)) - begin;
      const offset = <usize>from << 2;
      // Each slot carries its batch's scalars: one job updates every group of a step.
      const spanFinite = radamSpan(
        <usize>load<u32>(entry + SLOT_P) + offset,
        <usize>load<u32>(entry + SLOT_G) + offset,
        <usize>load<u32>(entry + SLOT_M) + offset,
        <usize>load<u32>(entry + SLOT_V) + offset,
        to - from,
        <usize>load<u32>(entry + SLOT_SCALARS),
      );
      finite = finite && spanFinite;
      index = begin + to;
      slot++;
    }
    // Published before the chunk counts as finished: the main thread reads the flag only
    // once every chunk is, so it sees every thread's.
    if (!finite) atomic.store<i32>(JOB_NON_FINITE, 1);
    finished();
  }
}

function runSumOfSquares(job: u32, chunks: u32): void {
  const table = <usize>load<u32>(JOB_TABLE);
  const slots = load<u32>(JOB_SLOTS);
  const chunkElements = load<u32>(JOB_CHUNK_ELEMENTS);
  const total = load<u32>(JOB_TOTAL);
  const results = <usize>load<u32>(JOB_RESULTS);
  for (;;) {
    const chunk = claim(job, chunks);
    if (chunk == NO_CHUNK) return;
    let index = chunk * chunkElements;
    const end = min(index + chunkElements, total);
    let slot = firstSlotAfter(table, slots, index);
    let sum: f64 = 0;
    while (index < end) {
      const entry = table + <usize>slot * SLOT_BYTES;
      const begin = load<u32>(entry + SLOT_BEGIN);
      const from = index - begin;
      const to = min(end, load<u32>(entry + SLOT_END)) - begin;
      sum += sumOfSquaresSpan(<usize>load<u32>(entry + SLOT_P) + (<usize>from << 2), to - from);
      index = begin + to;
      slot++;
    }
    // One partial sum per chunk; the main thread adds them in chunk order.
    store<f64>(results + (<usize>chunk << 3), sum);
    finished();
  }
}

function runAllFinite(job: u32, chunks: u32): void {
  const table = <usize>load<u32>(JOB_TABLE);
  const slots = load<u32>(JOB_SLOTS);
  const chunkElements = load<u32>(JOB_CHUNK_ELEMENTS);
  const total = load<u32>(JOB_TOTAL);
  for (;;) {
    const chunk = claim(job, chunks);
    if (chunk == NO_CHUNK) return;
    // Once any thread has found a non-finite element the answer is known: the remaining
    // chunks are still claimed and counted (the main thread waits for all), not read.
    if (atomic.load<i32>(JOB_NON_FINITE) == 0) {
      let index = chunk * chunkElements;
      const end = min(index + chunkElements, total);
      let slot = firstSlotAfter(table, slots, index);
      while (index < end) {
        const entry = table + <usize>slot * SLOT_BYTES;
        const begin = load<u32>(entry + SLOT_BEGIN);
        const from = index - begin;
        const to = min(end, load<u32>(entry + SLOT_END)) - begin;
        if (!allFiniteSpan(<usize>load<u32>(entry + SLOT_P) + (<usize>from << 2), to - from)) {
          atomic.store<i32>(JOB_NON_FINITE, 1);
          break;
        }
        index = begin + to;
        slot++;
      }
    }
    finished();
  }
}

/**
 * Works on job number `job` (see layout.ts) until none of its chunks is left. Called by
 * the main thread and by every worker woken for the job; a worker that calls it after the
 * job is over returns at once.
 */
export function run(job: u32): void {
  const chunks = load<u32>(JOB_CHUNKS);
  const kind = load<i32>(JOB_KIND);
  if (kind == KIND_RADAM) runRAdam(job, chunks);
  else if (kind == KIND_SUM_OF_SQUARES) runSumOfSquares(job, chunks);
  else if (kind == KIND_ALL_FINITE) runAllFinite(job, chunks);
}
