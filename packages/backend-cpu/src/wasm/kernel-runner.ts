import { RectifyError, type RAdamScalars, type RAdamSlot } from '@rectify/core';
import type { Block } from './block-allocator.js';
import type { KernelLayout } from './layout.js';
import type { SharedHeap } from './shared-heap.js';
import type { TensorStore } from './tensor-store.js';
import type { ThreadPool } from './thread-pool.js';

/** The kernel's exports, as called on the main thread. */
export interface KernelExports {
  /** Opens job number `job` for claiming (after its descriptor is written). */
  beginJob(job: number): void;
  /** Works on job number `job` until none of its chunks is left. */
  run(job: number): void;
}

/** How a {@link KernelRunner} cuts jobs and when it wakes the workers. */
export interface RunnerTuning {
  /** Elements per chunk, a multiple of 4: the unit of work a thread takes at a time. */
  readonly chunkElements: number;
  /** Jobs with fewer elements run on the main thread alone (waking workers costs more). */
  readonly parallelThreshold: number;
}

/** Word (u32) offsets of the fields of a slot-table entry. */
interface SlotWords {
  readonly p: number;
  readonly g: number;
  readonly m: number;
  readonly v: number;
  readonly begin: number;
  readonly end: number;
  /** Words per entry. */
  readonly size: number;
}

/** Elements a tensor occupies in the staging area: rounded up to whole f32x4 vectors (16 bytes). */
function stagedElements(length: number): number {
  return (length + 3) & ~3;
}

/**
 * Writes jobs into the control block and runs them: the fused RAdam step, the sum of
 * squares and the finiteness check, each over a whole batch of tensors in one kernel call
 * (one table of pointers, one pass, however many tensors).
 *
 * Tensors that live in the shared memory are passed by address. Any other `Float32Array`
 * (one the user allocated) is copied into a staging area first, and for RAdam the updated
 * `p`, `m` and `v` are copied back after: slower, but the same kernel and the same
 * float32 arithmetic, so both paths give bitwise the same results. The table, staging
 * and result areas are kept between calls and only grow, so a step allocates nothing.
 */
export class KernelRunner {
  readonly #heap: SharedHeap;
  readonly #tensors: TensorStore;
  readonly #layout: KernelLayout;
  readonly #kernel: KernelExports;
  readonly #runHere: () => void;
  /** Number of the current job (modulo 2^32). */
  #job = 0;
  readonly #pool: ThreadPool | undefined;
  readonly #tuning: RunnerTuning;
  readonly #words: SlotWords;
  #table: Block | undefined;
  #tableSlots = 0;
  #staging: Block | undefined;
  #stagingElements = 0;
  #results: Block | undefined;
  #resultChunks = 0;
  // User arrays of the current job waiting to be staged: the array, its table word, and
  // whether the kernel writes it (p, m, v) so it must be copied back.
  readonly #pending: Float32Array[] = [];
  readonly #pendingWords: number[] = [];
  readonly #pendingWritten: boolean[] = [];

  constructor(
    heap: SharedHeap,
    tensors: TensorStore,
    layout: KernelLayout,
    kernel: KernelExports,
    pool: ThreadPool | undefined,
    tuning: RunnerTuning,
  ) {
    this.#heap = heap;
    this.#tensors = tensors;
    this.#layout = layout;
    this.#words = {
      p: layout.SLOT_P >> 2,
      g: layout.SLOT_G >> 2,
      m: layout.SLOT_M >> 2,
      v: layout.SLOT_V >> 2,
      begin: layout.SLOT_BEGIN >> 2,
      end: layout.SLOT_END >> 2,
      size: layout.SLOT_BYTES >> 2,
    };
    this.#kernel = kernel;
    // One closure for the life of the runner: the thread pool calls it, and a step allocates nothing.
    this.#runHere = () => kernel.run(this.#job);
    this.#pool = pool;
    this.#tuning = tuning;
  }

  /** One fused RAdam update of every slot (see `RAdamScalars` in @rectify/core). */
  applyRAdam(slots: readonly RAdamSlot<Float32Array>[], scalars: RAdamScalars): void {
    const count = slots.length;
    if (count === 0) return;
    this.#clearQueue();
    this.#reserve(count, 0, 0);
    const heap = this.#heap;
    const L = this.#layout;
    const u32 = heap.u32;
    const w = this.#words;
    let entry = this.#table!.offset >> 2;
    let total = 0;
    // One pass: each tensor is looked up once and written by address; user arrays are
    // queued for staging (their table word is filled in by #stageQueued).
    const tensors = this.#tensors;
    for (let i = 0; i < count; i++, entry += w.size) {
      const slot = slots[i]!;
      const p = slot.param;
      const g = slot.grad;
      const m = slot.firstMoment;
      const v = slot.secondMoment;
      const length = p.length;
      if (g.length !== length || m.length !== length || v.length !== length) {
        throw new RectifyError('SHAPE_MISMATCH', `cpu-wasm: the tensors of slot ${i} differ in length.`);
      }
      const pAddress = tensors.addressOf(p);
      const gAddress = tensors.addressOf(g);
      const mAddress = tensors.addressOf(m);
      const vAddress = tensors.addressOf(v);
      if (pAddress >= 0) u32[entry + w.p] = pAddress;
      else this.#queue(p, entry + w.p, true);
      if (gAddress >= 0) u32[entry + w.g] = gAddress;
      else this.#queue(g, entry + w.g, false);
      if (mAddress >= 0) u32[entry + w.m] = mAddress;
      else this.#queue(m, entry + w.m, true);
      if (vAddress >= 0) u32[entry + w.v] = vAddress;
      else this.#queue(v, entry + w.v, true);
      u32[entry + w.begin] = total;
      total += length;
      u32[entry + w.end] = total;
    }
    const staged = this.#stageQueued();

    const f32 = heap.f32;
    const scalarBase = L.JOB_SCALARS >> 2;
    f32[scalarBase + L.SCALAR_GRAD_SCALE] = scalars.gradScale;
    f32[scalarBase + L.SCALAR_CLIP_VALUE] = scalars.clipValue;
    f32[scalarBase + L.SCALAR_WEIGHT_DECAY] = scalars.weightDecay;
    f32[scalarBase + L.SCALAR_PARAM_SCALE] = scalars.paramScale;
    f32[scalarBase + L.SCALAR_BETA1] = scalars.beta1;
    // 1 − β computed in float64, then rounded once, as the reference kernel's constant is.
    f32[scalarBase + L.SCALAR_ONE_MINUS_BETA1] = 1 - scalars.beta1;
    f32[scalarBase + L.SCALAR_BETA2] = scalars.beta2;
    f32[scalarBase + L.SCALAR_ONE_MINUS_BETA2] = 1 - scalars.beta2;
    f32[scalarBase + L.SCALAR_STEP_SIZE] = scalars.stepSize;
    f32[scalarBase + L.SCALAR_DENOM_SCALE] = scalars.denomScale;
    f32[scalarBase + L.SCALAR_EPS] = scalars.eps;
    heap.u32[L.JOB_RECTIFIED >> 2] = scalars.rectified ? 1 : 0;
    this.#run(L.KIND_RADAM, count, total);

    if (staged) this.#copyBack();
  }

  /** `Σ x²` over every tensor, in float64, summed in a fixed order whatever the thread count. */
  sumOfSquares(tensors: readonly Float32Array[]): number {
    const total = this.#fillReductionTable(tensors);
    if (total === 0) return 0;
    const chunks = Math.ceil(total / this.#tuning.chunkElements);
    this.#reserve(0, 0, chunks);
    const L = this.#layout;
    this.#heap.u32[L.JOB_RESULTS >> 2] = this.#results!.offset;
    this.#run(L.KIND_SUM_OF_SQUARES, tensors.length, total);
    // Partial sums, one per chunk, added in chunk order: the same order for any thread count.
    const f64 = this.#heap.f64;
    const first = this.#results!.offset >> 3;
    let sum = 0;
    for (let c = 0; c < chunks; c++) sum += f64[first + c]!;
    return sum;
  }

  /** `true` when no element of any tensor is NaN or ±Infinity. */
  allFinite(tensors: readonly Float32Array[]): boolean {
    const total = this.#fillReductionTable(tensors);
    if (total === 0) return true;
    const L = this.#layout;
    Atomics.store(this.#heap.u32, L.JOB_NON_FINITE >> 2, 0);
    this.#run(L.KIND_ALL_FINITE, tensors.length, total);
    return Atomics.load(this.#heap.u32, L.JOB_NON_FINITE >> 2) === 0;
  }

  /** Table of the reduction jobs: one tensor per slot, in the `p` column. Returns the element count. */
  #fillReductionTable(tensors: readonly Float32Array[]): number {
    const count = tensors.length;
    this.#clearQueue();
    this.#reserve(count, 0, 0);
    const u32 = this.#heap.u32;
    const w = this.#words;
    let entry = this.#table!.offset >> 2;
    let total = 0;
    const store = this.#tensors;
    for (let i = 0; i < count; i++, entry += w.size) {
      const tensor = tensors[i]!;
      const address = store.addressOf(tensor);
      if (address >= 0) u32[entry + w.p] = address;
      else this.#queue(tensor, entry + w.p, false);
      u32[entry + w.begin] = total;
      total += tensor.length;
      u32[entry + w.end] = total;
    }
    // Read-only jobs: staged copies need no copying back.
    this.#stageQueued();
    this.#clearQueue();
    return total;
  }

  /** Remembers a user array whose staging address goes into table word `word`. */
  #queue(tensor: Float32Array, word: number, written: boolean): void {
    this.#pending.push(tensor);
    this.#pendingWords.push(word);
    this.#pendingWritten.push(written);
  }

  /**
   * Copies the queued user arrays into the staging area (grown first if needed) and writes
   * their staging addresses into the table. Returns whether there were any.
   */
  #stageQueued(): boolean {
    const pending = this.#pending;
    if (pending.length === 0) return false;
    let elements = 0;
    for (const tensor of pending) elements += stagedElements(tensor.length);
    this.#reserve(0, elements, 0);
    const heap = this.#heap;
    let cursor = this.#staging!.offset;
    for (let k = 0; k < pending.length; k++) {
      const tensor = pending[k]!;
      heap.f32.set(tensor, cursor >> 2);
      heap.u32[this.#pendingWords[k]!] = cursor;
      cursor += stagedElements(tensor.length) * 4;
    }
    return true;
  }

  /** Copies the updated `p`, `m`, `v` of staged user arrays back, and empties the queue. */
  #copyBack(): void {
    const heap = this.#heap;
    const pending = this.#pending;
    for (let k = 0; k < pending.length; k++) {
      if (!this.#pendingWritten[k]) continue;
      const tensor = pending[k]!;
      const start = heap.u32[this.#pendingWords[k]!]! >> 2;
      tensor.set(heap.f32.subarray(start, start + tensor.length));
    }
    this.#clearQueue();
  }

  #clearQueue(): void {
    this.#pending.length = 0;
    this.#pendingWords.length = 0;
    this.#pendingWritten.length = 0;
  }

  /** Writes the job header and runs it, on the workers too when it is large enough. */
  #run(kind: number, slots: number, total: number): void {
    const L = this.#layout;
    const u32 = this.#heap.u32;
    const { chunkElements, parallelThreshold } = this.#tuning;
    const chunks = Math.ceil(total / chunkElements);
    u32[L.JOB_KIND >> 2] = kind;
    u32[L.JOB_TABLE >> 2] = this.#table!.offset;
    u32[L.JOB_SLOTS >> 2] = slots;
    u32[L.JOB_TOTAL >> 2] = total;
    u32[L.JOB_CHUNKS >> 2] = chunks;
    u32[L.JOB_CHUNK_ELEMENTS >> 2] = chunkElements;
    this.#job = (this.#job + 1) >>> 0;
    this.#kernel.beginJob(this.#job);
    const pool = this.#pool;
    if (pool !== undefined && pool.size > 0 && chunks > 1 && total >= parallelThreshold) pool.run(this.#job, chunks, this.#runHere);
    else this.#runHere();
  }

  /** Makes the table, staging and result areas at least this large (they only grow). */
  #reserve(slots: number, stagingElements: number, chunks: number): void {
    const heap = this.#heap;
    if (slots > this.#tableSlots || this.#table === undefined) {
      const capacity = Math.max(slots, 2 * this.#tableSlots, 64);
      if (this.#table !== undefined) heap.free(this.#table);
      this.#table = heap.allocate(capacity * this.#layout.SLOT_BYTES);
      this.#tableSlots = capacity;
    }
    if (stagingElements > this.#stagingElements) {
      const capacity = Math.max(stagingElements, Math.ceil(1.5 * this.#stagingElements));
      if (this.#staging !== undefined) heap.free(this.#staging);
      this.#staging = heap.allocate(capacity * 4);
      this.#stagingElements = capacity;
    }
    if (chunks > this.#resultChunks) {
      const capacity = Math.max(chunks, 2 * this.#resultChunks, 64);
      if (this.#results !== undefined) heap.free(this.#results);
      this.#results = heap.allocate(capacity * 8);
      this.#resultChunks = capacity;
    }
  }

  /** Returns the runner's own areas to the heap. */
  release(): void {
    for (const block of [this.#table, this.#staging, this.#results]) if (block !== undefined) this.#heap.free(block);
    this.#table = this.#staging = this.#results = undefined;
    this.#tableSlots = this.#stagingElements = this.#resultChunks = 0;
  }
}
