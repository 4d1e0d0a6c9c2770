/** Alignment of every block: a cache line, which is also a multiple of a v128 (16 bytes). */
export const BLOCK_ALIGN = 64;

/** A range of the shared memory handed out by {@link BlockAllocator}. */
export interface Block {
  /** Byte address in the memory (also the `byteOffset` of a view on it). */
  readonly offset: number;
  /** Bytes reserved, a multiple of {@link BLOCK_ALIGN}. */
  readonly bytes: number;
  /** Set once the block is back in the free list (so a second free is a no-op). */
  freed: boolean;
}

/**
 * First-fit free-list allocator over byte ranges of a linear memory, with coalescing.
 * Allocation happens when tensors are created, never per step, so a sorted array of free
 * runs is plenty. When no run fits, `grow` is asked for at least the missing bytes and
 * returns the memory's new end.
 */
export class BlockAllocator {
  // Free runs, sorted by start, never adjacent (adjacent runs are merged on free).
  readonly #starts: number[] = [];
  readonly #sizes: number[] = [];
  #end: number;
  #usedBytes = 0;
  readonly #grow: (minimumBytes: number) => number;

  /**
   * @param start - first byte the allocator may hand out (aligned up to {@link BLOCK_ALIGN}).
   * @param end - current end of the memory in bytes.
   * @param grow - enlarges the memory by at least the given bytes and returns its new end;
   *   throws when it cannot.
   */
  constructor(start: number, end: number, grow: (minimumBytes: number) => number) {
    const alignedStart = alignUp(start);
    this.#end = end;
    this.#grow = grow;
    if (end > alignedStart) {
      this.#starts.push(alignedStart);
      this.#sizes.push(end - alignedStart);
    }
  }

  /** Bytes in live blocks. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Number of free runs (fragmentation; for tests). */
  get freeRuns(): number {
    return this.#starts.length;
  }

  /** A block of at least `bytes` bytes (zero-byte requests get a minimal block). */
  allocate(bytes: number): Block {
    const need = Math.max(BLOCK_ALIGN, alignUp(bytes));
    let index = this.#firstFit(need);
    if (index < 0) {
      this.#extend(need);
      index = this.#firstFit(need);
      if (index < 0) throw new Error('BlockAllocator: the memory grew but no run fits (internal error).');
    }
    const offset = this.#starts[index]!;
    const size = this.#sizes[index]!;
    if (size === need) {
      this.#starts.splice(index, 1);
      this.#sizes.splice(index, 1);
    } else {
      this.#starts[index] = offset + need;
      this.#sizes[index] = size - need;
    }
    this.#usedBytes += need;
    return { offset, bytes: need, freed: false };
  }

  /** Returns `block` to the free list; a block already freed is ignored. */
  free(block: Block): void {
    if (block.freed) return;
    block.freed = true;
    this.#usedBytes -= block.bytes;
    this.#insertFree(block.offset, block.bytes);
  }

  #firstFit(need: number): number {
    for (let i = 0; i < this.#sizes.length; i++) if (this.#sizes[i]! >= need) return i;
    return -1;
  }

  /** Grows the memory so that the run at its end holds at least `need` bytes. */
  #extend(need: number): void {
    const last = this.#starts.length - 1;
    const tailFree = last >= 0 && this.#starts[last]! + this.#sizes[last]! === this.#end ? this.#sizes[last]! : 0;
    const oldEnd = this.#end;
    const newEnd = this.#grow(need - tailFree);
    this.#end = newEnd;
    this.#insertFree(oldEnd, newEnd - oldEnd);
  }

  #insertFree(offset: number, bytes: number): void {
    // Binary search for the first run starting after `offset`.
    let low = 0;
    let high = this.#starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#starts[mid]! < offset) low = mid + 1;
      else high = mid;
    }
    const mergesBefore = low > 0 && this.#starts[low - 1]! + this.#sizes[low - 1]! === offset;
    const mergesAfter = low < this.#starts.length && offset + bytes === this.#starts[low]!;
    if (mergesBefore && mergesAfter) {
      this.#sizes[low - 1]! += bytes + this.#sizes[low]!;
      this.#starts.splice(low, 1);
      this.#sizes.splice(low, 1);
    } else if (mergesBefore) {
      this.#sizes[low - 1]! += bytes;
    } else if (mergesAfter) {
      this.#starts[low] = offset;
      this.#sizes[low]! += bytes;
    } else {
      this.#starts.splice(low, 0, offset);
      this.#sizes.splice(low, 0, bytes);
    }
  }
}

/** `bytes` rounded up to a multiple of {@link BLOCK_ALIGN}. */
export function alignUp(bytes: number): number {
  return Math.ceil(bytes / BLOCK_ALIGN) * BLOCK_ALIGN;
}
