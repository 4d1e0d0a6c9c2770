import { RectifyError, isRectifyError, type RAdamBatch } from '@rectify/core';
import type { Block } from './block-allocator.js';
import type { KernelLayout } from './layout.js';
import type { KernelHeap } from './heap.js';
import { RELEASED, type TensorStore } from './tensor-store.js';
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
  readonly scalars: number;
  /** Words per entry. */
  readonly size: number;
}

/** Update chunks per reduction chunk (see {@link KernelRunner}'s `#reductionChunk`). */
const REDUCTION_CHUNK_FACTOR = 8;

/** Elements a tensor occupies in the staging area: rounded up to whole f32x4 vectors (16 bytes). */
function stagedElements(length: number): number {
  return (length + 3) & ~3;
}

/**
 * A region of the heap the runner keeps between calls (slot table, batch scalars,
 * staging, partial sums) and only ever enlarges, so that a step allocates nothing once
 * warm. A failed enlargement leaves it empty, never pointing at freed memory.
 */
class Area {
  readonly #heap: KernelHeap;
  readonly #unitBytes: number;
  readonly #minimumUnits: number;
  readonly #growth: number;
  #block: Block | undefined;
  #units = 0;

  /**
   * @param unitBytes - bytes per unit (a slot, an element, …).
   * @param minimumUnits - the smallest size worth allocating.
   * @param growth - factor over the current size an enlargement asks for, to leave room.
   */
  constructor(heap: KernelHeap, unitBytes: number, minimumUnits: number, growth: number) {
    this.#heap = heap;
    this.#unitBytes = unitBytes;
    this.#minimumUnits = minimumUnits;
    this.#growth = growth;
  }

  /**
   * The byte address of the area, made at least `units` units large first.
   *
   * @throws RectifyError `OUT_OF_MEMORY` when even exactly `units` do not fit.
   */
  reserve(units: number): number {
    if (this.#block !== undefined && units <= this.#units) return this.#block.offset;
    const roomy = Math.max(units, Math.ceil(this.#growth * this.#units), this.#minimumUnits);
    // Freed first, so that the new block can reuse (and coalesce with) the old one's bytes.
    this.release();
    let size = roomy;
    let block: Block;
    try {
      block = this.#heap.allocate(roomy * this.#unitBytes);
    } catch (error) {
      // The headroom is a convenience: fall back to the size actually needed.
      if (roomy === units || !isRectifyError(error, 'OUT_OF_MEMORY')) throw error;
      size = units;
      block = this.#heap.allocate(units * this.#unitBytes);
    }
    this.#block = block;
    this.#units = size;
    return block.offset;
  }

  /** Byte address of the area (0 before the first {@link Area.reserve}). */
  get offset(): number {
    return this.#block?.offset ?? 0;
  }

  /** Returns the area's memory to the heap. */
  release(): void {
    if (this.#block !== undefined) this.#heap.free(this.#block);
    this.#block = undefined;
    this.#units = 0;
  }
}

/**
 * Writes jobs into the control block and runs them: the fused RAdam step of a whole
 * optimizer step, the sum of squares and the finiteness check, each over every tensor in
 * one kernel call (one table of pointers, one pass, however many tensors and groups).
 *
 * Tensors that live in the shared memory are passed by address. Any other `Float32Array`
 * (one the user allocated) is copied into a staging area first, and for RAdam the updated
 * `p`, `m` and `v` are copied back after: slower, but the same kernel and the same
 * float32 arithmetic, so both paths give bitwise the same results. The table, scalars,
 * staging and result areas are kept between calls and only grow, so a step allocates
 * nothing.
 *
 * **All or nothing.** Everything that can fail (a released tensor, lengths that differ,
 * memory for the table or the staging area) is checked or reserved before the kernel
 * writes its first element, and reported as a `RectifyError`: then no tensor changed.
 */
export class KernelRunner {
  readonly #heap: KernelHeap;
  readonly #tensors: TensorStore;
  readonly #layout: KernelLayout;
  readonly #kernel: KernelExports;
  readonly #runHere: () => void;
  /** Number of the current job (modulo 2^32). */
  #job = 0;
  readonly #pool: ThreadPool | undefined;
  readonly #tuning: RunnerTuning;
  readonly #words: SlotWords;
  readonly #table: Area;
  readonly #scalars: Area;
  readonly #staging: Area;
  readonly #results: Area;
  // User arrays of the current job waiting to be staged: the array, its table word, and
  // whether the kernel writes it (p, m, v) so it must be copied back.
  readonly #pending: Float32Array[] = [];
  readonly #pendingWords: number[] = [];
  readonly #pendingWritten: boolean[] = [];

  constructor(
    heap: KernelHeap,
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
      scalars: layout.SLOT_SCALARS >> 2,
      size: layout.SLOT_BYTES >> 2,
    };
    this.#table = new Area(heap, layout.SLOT_BYTES, 64, 2);
    this.#scalars = new Area(heap, layout.SCALARS_BYTES, 16, 2);
    this.#staging = new Area(heap, 4, 0, 1.5);
    this.#results = new Area(heap, 8, 64, 2);
    this.#kernel = kernel;
    // One closure for the life of the runner: the thread pool calls it, and a step allocates nothing.
    this.#runHere = () => kernel.run(this.#job);
    this.#pool = pool;
    this.#tuning = tuning;
  }

  /**
   * One fused RAdam update of every slot of every batch (see `RAdamScalars` in
   * @rectify/core), in one kernel job.
   *
   * @returns `true` when every p, m and v element stored is finite.
   * @throws RectifyError `INVALID_TENSOR` (a released tensor), `SHAPE_MISMATCH` (a slot's
   *   tensors differ in length) or `OUT_OF_MEMORY` (table or staging area), before
   *   anything is written.
   */
  applyRAdam(batches: readonly RAdamBatch<Float32Array>[]): boolean {
    let count = 0;
    for (const batch of batches) count += batch.slots.length;
    if (count === 0) return true;
    this.#clearQueue();
    // Reserved before the views are read: growing the memory replaces them.
    const table = this.#table.reserve(count);
    const scalarsBase = this.#scalars.reserve(batches.length);
    const heap = this.#heap;
    const L = this.#layout;
    const u32 = heap.u32;
    const f32 = heap.f32;
    const w = this.#words;
    let entry = table >>> 2;
    let total = 0;
    for (let b = 0; b < batches.length; b++) {
      const { slots, scalars } = batches[b]!;
      const scalarsAddress = scalarsBase + b * L.SCALARS_BYTES;
      const at = scalarsAddress >>> 2;
      f32[at + L.SCALAR_GRAD_SCALE] = scalars.gradScale;
      f32[at + L.SCALAR_CLIP_VALUE] = scalars.clipValue;
      f32[at + L.SCALAR_WEIGHT_DECAY] = scalars.weightDecay;
      f32[at + L.SCALAR_PARAM_SCALE] = scalars.paramScale;
      f32[at + L.SCALAR_BETA1] = scalars.beta1;
      // 1 − β computed in float64, then rounded once, as the reference kernel's constant is.
      f32[at + L.SCALAR_ONE_MINUS_BETA1] = 1 - scalars.beta1;
      f32[at + L.SCALAR_BETA2] = scalars.beta2;
      f32[at + L.SCALAR_ONE_MINUS_BETA2] = 1 - scalars.beta2;
      f32[at + L.SCALAR_STEP_SIZE] = scalars.stepSize;
      f32[at + L.SCALAR_DENOM_SCALE] = scalars.denomScale;
      f32[at + L.SCALAR_EPS] = scalars.eps;
      u32[at + L.SCALAR_RECTIFIED] = scalars.rectified ? 1 : 0;
      // One pass: each tensor is looked up once and written by address; user arrays are
      // queued for staging (their table word is filled in by #stageQueued).
      for (let i = 0; i < slots.length; i++, entry += w.size) {
        const slot = slots[i]!;
        const p = slot.param;
        const g = slot.grad;
        const m = slot.firstMoment;
        const v = slot.secondMoment;
        const length = p.length;
        if (g.length !== length || m.length !== length || v.length !== length) {
          throw new RectifyError('SHAPE_MISMATCH', `cpu-wasm: the tensors of slot ${i} of batch ${b} differ in length.`);
        }
        this.#place(p, entry + w.p, true, b, i);
        this.#place(g, entry + w.g, false, b, i);
        this.#place(m, entry + w.m, true, b, i);
        this.#place(v, entry + w.v, true, b, i);
        u32[entry + w.begin] = total;
        total += length;
        u32[entry + w.end] = total;
        u32[entry + w.scalars] = scalarsAddress;
      }
    }
    // The last allocation of the step: past it, nothing can fail but the kernel itself.
    const staged = this.#stageQueued();

    Atomics.store(this.#heap.u32, L.JOB_NON_FINITE >> 2, 0);
    this.#run(L.KIND_RADAM, count, total, this.#tuning.chunkElements);
    if (staged) this.#copyBack();
    return Atomics.load(this.#heap.u32, L.JOB_NON_FINITE >> 2) === 0;
  }

  /** `Σ x²` over every tensor, in float64, summed in a fixed order whatever the thread count. */
  sumOfSquares(tensors: readonly Float32Array[]): number {
    const total = this.#fillReductionTable(tensors);
    if (total === 0) return 0;
    const chunks = Math.ceil(total / this.#reductionChunk());
    const results = this.#results.reserve(chunks);
    const L = this.#layout;
    this.#heap.u32[L.JOB_RESULTS >> 2] = results;
    this.#run(L.KIND_SUM_OF_SQUARES, tensors.length, total, this.#reductionChunk());
    // Partial sums, one per chunk, added in chunk order: the same order for any thread count.
    const f64 = this.#heap.f64;
    const first = results >>> 3;
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
    this.#run(L.KIND_ALL_FINITE, tensors.length, total, this.#reductionChunk());
    return Atomics.load(this.#heap.u32, L.JOB_NON_FINITE >> 2) === 0;
  }

  /** Table of the reduction jobs: one tensor per slot, in the `p` column. Returns the element count. */
  #fillReductionTable(tensors: readonly Float32Array[]): number {
    const count = tensors.length;
    this.#clearQueue();
    // Reserved before the views are read: growing the memory replaces them.
    let entry = this.#table.reserve(count) >>> 2;
    const u32 = this.#heap.u32;
    const w = this.#words;
    let total = 0;
    for (let i = 0; i < count; i++, entry += w.size) {
      const tensor = tensors[i]!;
      this.#place(tensor, entry + w.p, false, -1, i);
      u32[entry + w.begin] = total;
      total += tensor.length;
      u32[entry + w.end] = total;
    }
    // Read-only jobs: staged copies need no copying back.
    this.#stageQueued();
    this.#clearQueue();
    return total;
  }

  /**
   * Writes `tensor`'s address into table word `word`, or queues it for staging when it
   * lives outside the memory (`written`: the kernel writes it, so it is copied back).
   *
   * @throws RectifyError `INVALID_TENSOR` for a released tensor (slot `slot` of batch
   *   `batch`, or tensor `slot` of a reduction when `batch` is -1).
   */
  #place(tensor: Float32Array, word: number, written: boolean, batch: number, slot: number): void {
    const address = this.#tensors.addressOf(tensor);
    if (address >= 0) {
      this.#heap.u32[word] = address;
    } else if (address === RELEASED) {
      const which = batch < 0 ? `tensor ${slot}` : `a tensor of slot ${slot} of batch ${batch}`;
      throw new RectifyError(
        'INVALID_TENSOR',
        `cpu-wasm: ${which} was released (disposeTensor) or lies in no live tensor; its memory may belong to another tensor now.`,
      );
    } else {
      this.#pending.push(tensor);
      this.#pendingWords.push(word);
      this.#pendingWritten.push(written);
    }
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
    let cursor = this.#staging.reserve(elements);
    // Read after the reservation: growing the memory replaces the heap's views.
    const heap = this.#heap;
    for (let k = 0; k < pending.length; k++) {
      const tensor = pending[k]!;
      heap.f32.set(tensor, cursor >>> 2);
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
      const start = heap.u32[this.#pendingWords[k]!]! >>> 2;
      tensor.set(heap.f32.subarray(start, start + tensor.length));
    }
    this.#clearQueue();
  }

  #clearQueue(): void {
    this.#pending.length = 0;
    this.#pendingWords.length = 0;
    this.#pendingWritten.length = 0;
  }

  /**
   * Elements per chunk of the reductions: {@link REDUCTION_CHUNK_FACTOR} update chunks.
   * A reduction reads one array in several streams per chunk (see the kernel), and a
   * stream that crosses a page every few kilobytes loses the hardware prefetcher's lead.
   */
  #reductionChunk(): number {
    return this.#tuning.chunkElements * REDUCTION_CHUNK_FACTOR;
  }

  /** Writes the job header and runs it, on the workers too when it is large enough. */
  #run(kind: number, slots: number, total: number, chunkElements: number): void {
    const L = this.#layout;
    const u32 = this.#heap.u32;
    const { parallelThreshold } = this.#tuning;
    const chunks = Math.ceil(total / chunkElements);
    u32[L.JOB_KIND >> 2] = kind;
    u32[L.JOB_TABLE >> 2] = this.#table.offset;
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

  /** Returns the runner's own areas to the heap. */
  release(): void {
    for (const area of [this.#table, this.#scalars, this.#staging, this.#results]) area.release();
  }
}
