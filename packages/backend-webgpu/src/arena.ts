import { RectifyError } from '@rectify/core';

/**
 * Elements every allocation is aligned and padded to: one `vec4<f32>`, so every kernel
 * can load and store whole vectors (16 bytes also satisfies every copy and write
 * alignment WebGPU asks for).
 */
export const ALIGNMENT = 4;

/** Where one allocation lives: a page and an element range in it. */
export interface Allocation {
  /** Index of the page (storage buffer) in the arena. */
  readonly page: number;
  /** First element, a multiple of {@link ALIGNMENT}. */
  readonly offset: number;
  /** Elements reserved, a multiple of {@link ALIGNMENT} (the length rounded up). */
  readonly capacity: number;
}

/** What the arena asks of whoever owns the device buffers behind its pages. */
export interface PageStore {
  /** Creates page `index` (the next one) holding `elements` elements. */
  createPage(index: number, elements: number): void;
  /** Replaces page `index`'s buffer by one of `elements` elements, keeping its contents. */
  growPage(index: number, elements: number): void;
}

/** Sizes of an {@link Arena}, in elements. */
export interface ArenaLimits {
  /** The largest page: the device's storage binding and buffer size limits. */
  readonly maxPageElements: number;
  /** How many pages the kernels can bind at once. */
  readonly maxPages: number;
  /** The size a new page starts at (it doubles as it fills, up to {@link maxPageElements}). */
  readonly initialPageElements: number;
}

interface Block {
  start: number;
  size: number;
}

interface Page {
  capacity: number;
  /** Free blocks, sorted by start, never adjacent (they are merged). */
  readonly free: Block[];
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * The allocator behind every tensor: a few large pages (one storage buffer each), each
 * managed first-fit with a sorted, coalescing free list. Pages grow by doubling (the owner
 * copies the old buffer into the new one) and a new page is opened only when the last one
 * is at its maximum, so a model's tensors normally share one page, and one binding.
 *
 * @example
 * ```ts
 * const arena = new Arena({ maxPageElements: 1 << 28, maxPages: 4, initialPageElements: 1 << 20 }, store);
 * const a = arena.allocate(1000); // { page: 0, offset: 0, capacity: 1000 }
 * arena.release(a);
 * ```
 */
export class Arena {
  readonly #pages: Page[] = [];
  readonly #limits: ArenaLimits;
  readonly #store: PageStore;

  constructor(limits: ArenaLimits, store: PageStore) {
    this.#limits = limits;
    this.#store = store;
  }

  /** Pages currently open. */
  get pageCount(): number {
    return this.#pages.length;
  }

  /** Elements of page `index`. */
  capacityOf(index: number): number {
    return this.#pages[index]!.capacity;
  }

  /** The largest tensor one page can hold, in elements. */
  get maxElements(): number {
    return this.#limits.maxPageElements;
  }

  /**
   * Reserves room for `elements` elements (at least one vector, so every tensor of
   * non-zero size has its own place).
   *
   * @throws RectifyError `INVALID_TENSOR` when no page can ever hold it, `OUT_OF_MEMORY`
   *   when every page is full and no more can be opened. Nothing changes then.
   */
  allocate(elements: number): Allocation {
    const need = Math.max(ALIGNMENT, roundUp(elements, ALIGNMENT));
    const { maxPageElements, maxPages, initialPageElements } = this.#limits;
    if (need > maxPageElements) {
      throw new RectifyError(
        'INVALID_TENSOR',
        `A tensor of ${elements} elements is larger than one WebGPU storage page holds (${maxPageElements} float32 elements: min(maxStorageBufferBindingSize, maxBufferSize) / 4 of this device, or the maxPageElements option); split it into smaller parameters.`,
      );
    }
    for (let index = 0; index < this.#pages.length; index++) {
      const offset = take(this.#pages[index]!, need);
      if (offset !== undefined) return { page: index, offset, capacity: need };
    }
    const last = this.#pages.length - 1;
    if (last >= 0 && this.#pages[last]!.capacity < maxPageElements) {
      const page = this.#pages[last]!;
      const tail = page.free.at(-1);
      const tailFree = tail !== undefined && tail.start + tail.size === page.capacity ? tail.size : 0;
      let capacity = page.capacity;
      while (capacity - page.capacity + tailFree < need && capacity < maxPageElements) {
        capacity = Math.min(maxPageElements, capacity * 2);
      }
      if (capacity - page.capacity + tailFree >= need) {
        this.#store.growPage(last, capacity);
        release(page, page.capacity, capacity - page.capacity);
        page.capacity = capacity;
        return { page: last, offset: take(page, need)!, capacity: need };
      }
    }
    if (this.#pages.length >= maxPages) {
      throw new RectifyError(
        'OUT_OF_MEMORY',
        `The WebGPU arena is full: ${maxPages} pages of up to ${maxPageElements} elements are in use and a tensor of ${elements} elements does not fit; dispose of tensors you no longer need.`,
      );
    }
    let capacity = Math.min(maxPageElements, roundUp(initialPageElements, ALIGNMENT));
    while (capacity < need) capacity = Math.min(maxPageElements, capacity * 2);
    const index = this.#pages.length;
    this.#store.createPage(index, capacity);
    const page: Page = { capacity, free: [{ start: 0, size: capacity }] };
    this.#pages.push(page);
    return { page: index, offset: take(page, need)!, capacity: need };
  }

  /** Gives an allocation's elements back (merged with free neighbours). */
  release(allocation: Allocation): void {
    release(this.#pages[allocation.page]!, allocation.offset, allocation.capacity);
  }

  /** Forgets every page (the owner destroys their buffers). */
  clear(): void {
    this.#pages.length = 0;
  }
}

/** First fit: the start of `size` elements taken from `page`'s free list, if any block is big enough. */
function take(page: Page, size: number): number | undefined {
  const free = page.free;
  for (let i = 0; i < free.length; i++) {
    const block = free[i]!;
    if (block.size < size) continue;
    const start = block.start;
    if (block.size === size) free.splice(i, 1);
    else {
      block.start += size;
      block.size -= size;
    }
    return start;
  }
  return undefined;
}

/** Returns `[start, start + size)` to `page`'s free list, merging it with adjacent blocks. */
function release(page: Page, start: number, size: number): void {
  const free = page.free;
  let lo = 0;
  let hi = free.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (free[mid]!.start < start) lo = mid + 1;
    else hi = mid;
  }
  const before = free[lo - 1];
  const after = free[lo];
  if (before !== undefined && before.start + before.size > start) throw new Error(`Arena: [${start}, +${size}) released twice.`);
  if (after !== undefined && start + size > after.start) throw new Error(`Arena: [${start}, +${size}) released twice.`);
  const joinsBefore = before !== undefined && before.start + before.size === start;
  const joinsAfter = after !== undefined && start + size === after.start;
  if (joinsBefore && joinsAfter) {
    before.size += size + after.size;
    free.splice(lo, 1);
  } else if (joinsBefore) {
    before.size += size;
  } else if (joinsAfter) {
    after.start = start;
    after.size += size;
  } else {
    free.splice(lo, 0, { start, size });
  }
}
