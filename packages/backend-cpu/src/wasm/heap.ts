import { RectifyError } from '@rectify/core';
import { BlockAllocator, type Block } from './block-allocator.js';
import { PAGE_BYTES, webAssembly, type WasmMemory } from './wasm-api.js';

/**
 * What the memory is: `shared` (a `SharedArrayBuffer`, workers can run on it), `resizable`
 * (a plain memory whose buffer grows in place) or `fixed` (a plain memory in an engine
 * without resizable buffers, which cannot grow without invalidating every tensor).
 */
export type MemoryKind = 'shared' | 'resizable' | 'fixed';

/** Sizes of a {@link KernelHeap}, in bytes. */
export interface HeapStats {
  /** Bytes in live blocks: tensors plus the backend's own tables and staging area. */
  readonly usedBytes: number;
  /** Current size of the memory. */
  readonly capacityBytes: number;
  /** The most the memory may grow to (its size, for a `fixed` memory). */
  readonly maximumBytes: number;
  /** What the memory is (see {@link MemoryKind}). */
  readonly memory: MemoryKind;
}

/**
 * A `WebAssembly.Memory` with an allocator and typed views over all of it.
 *
 * Tensors are views into the memory, so growing it must never detach them:
 * - **shared**: growing a shared memory never detaches existing views (a
 *   `SharedArrayBuffer` cannot be detached); only `memory.buffer` becomes a new, longer
 *   object, and every buffer object the memory has had is remembered, to recognize
 *   tensors as its own.
 * - **resizable** (plain memory, for pages without `SharedArrayBuffer`): growing a plain
 *   memory detaches its `ArrayBuffer`, unless the memory was first turned into a resizable
 *   buffer, which then grows in place; fixed-length views stay valid.
 * - **fixed** (plain memory, engine without `toResizableBuffer`): the memory keeps its
 *   initial size, and an allocation past it is `OUT_OF_MEMORY` naming `initialMemoryMiB`.
 *
 * In every case this class refreshes its own whole-memory views after a grow.
 */
export class KernelHeap {
  /** The memory, imported by every kernel instance (main thread and workers). */
  readonly memory: WasmMemory;
  /** Upper bound of the memory in bytes. */
  readonly maximumBytes: number;
  /** What the memory is: decides how it grows. */
  readonly kind: MemoryKind;
  /** Whole-memory views, replaced after every grow. */
  f32!: Float32Array;
  u32!: Uint32Array;
  f64!: Float64Array;
  /** Bumped on every grow: callers caching views compare it. */
  generation = 0;
  readonly #buffers: ArrayBufferLike[] = [];
  #allocator: BlockAllocator | undefined;
  #pages: number;
  readonly #maximumPages: number;

  /**
   * @param initialBytes - size to start with.
   * @param maximumBytes - size the memory may grow to (at most 4 GiB, wasm32).
   * @param shared - a shared memory (for threads) or a plain one.
   */
  constructor(initialBytes: number, maximumBytes: number, shared: boolean) {
    const maximumPages = Math.max(1, Math.floor(maximumBytes / PAGE_BYTES));
    this.#pages = Math.min(maximumPages, Math.max(1, Math.ceil(initialBytes / PAGE_BYTES)));
    const resizable = !shared && typeof webAssembly.Memory.prototype.toResizableBuffer === 'function';
    this.kind = shared ? 'shared' : resizable ? 'resizable' : 'fixed';
    // A fixed memory never grows: reserving more address space than its size would be waste.
    this.#maximumPages = this.kind === 'fixed' ? this.#pages : maximumPages;
    this.maximumBytes = this.#maximumPages * PAGE_BYTES;
    this.memory = new webAssembly.Memory({ initial: this.#pages, maximum: this.#maximumPages, shared });
    if (resizable) this.memory.toResizableBuffer!();
    this.#refresh();
  }

  /**
   * Starts the allocator above `reservedBytes` (the kernel's control block, whose size
   * is known only once the kernel is instantiated over this memory). Call once.
   */
  reserve(reservedBytes: number): void {
    this.#allocator = new BlockAllocator(reservedBytes, this.#pages * PAGE_BYTES, (bytes) => this.#grow(bytes));
  }

  get #blocks(): BlockAllocator {
    if (this.#allocator === undefined) throw new Error('KernelHeap: reserve() was not called.');
    return this.#allocator;
  }

  /** Current sizes. */
  stats(): HeapStats {
    return {
      usedBytes: this.#allocator?.usedBytes ?? 0,
      capacityBytes: this.#pages * PAGE_BYTES,
      maximumBytes: this.maximumBytes,
      memory: this.kind,
    };
  }

  /** A block of `bytes` bytes, growing the memory when needed (throws `RectifyError` `OUT_OF_MEMORY` past the maximum). */
  allocate(bytes: number): Block {
    return this.#blocks.allocate(bytes);
  }

  /** Returns a block to the allocator (ignores a block already freed). */
  free(block: Block): void {
    this.#blocks.free(block);
  }

  /** A `Float32Array` of `length` elements over `block`. */
  float32View(block: Block, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, block.offset, length);
  }

  /**
   * Whether `array` is a view into this memory: then its `byteOffset` is its address in
   * the kernel's address space and the kernel can work on it in place.
   */
  owns(array: ArrayBufferView): boolean {
    const buffer = array.buffer;
    const buffers = this.#buffers;
    // Almost always the current buffer; older ones only for tensors created before a grow.
    for (let i = buffers.length - 1; i >= 0; i--) if (buffers[i] === buffer) return true;
    return false;
  }

  #grow(minimumBytes: number): number {
    const needed = Math.ceil(minimumBytes / PAGE_BYTES);
    const outOfMemory = (cause?: unknown): RectifyError =>
      this.kind === 'fixed'
        ? new RectifyError(
            'OUT_OF_MEMORY',
            `cpu-wasm: out of memory: ${minimumBytes} more bytes needed, but the memory is ${this.maximumBytes} bytes and ` +
              'cannot grow: this engine has no resizable WebAssembly memory (WebAssembly.Memory.prototype.toResizableBuffer) and ' +
              'the page is not cross-origin isolated (no shared memory), so growing it would invalidate every tensor ' +
              '(raise initialMemoryMiB, or dispose tensors no longer used).',
            'initialMemoryMiB',
          )
        : new RectifyError(
            'OUT_OF_MEMORY',
            `cpu-wasm: out of memory: ${minimumBytes} more bytes needed, but the memory is ${this.#pages * PAGE_BYTES} ` +
              `bytes of at most ${this.maximumBytes} (raise maximumMemoryMiB, or dispose tensors no longer used).`,
            'maximumMemoryMiB',
            cause === undefined ? undefined : { cause },
          );
    if (this.#pages + needed > this.#maximumPages) throw outOfMemory();
    // Grow by half again at least: tensors come in families (p, m, v, g of one shape), and
    // pages a grow adds stay untouched, hence uncommitted, until the allocator uses them.
    const pages = Math.min(this.#maximumPages - this.#pages, Math.max(needed, Math.ceil(this.#pages / 2)));
    try {
      this.memory.grow(pages);
    } catch (error) {
      // The engine refused pages below the maximum (no address space or memory left):
      // the same condition for the caller, who must get a RectifyError to know nothing
      // was allocated.
      throw outOfMemory(error);
    }
    this.#pages += pages;
    this.#refresh();
    return this.#pages * PAGE_BYTES;
  }

  #refresh(): void {
    const buffer = this.memory.buffer;
    // A resizable buffer stays the same object: remember it once.
    if (this.#buffers[this.#buffers.length - 1] !== buffer) this.#buffers.push(buffer);
    this.f32 = new Float32Array(buffer);
    this.u32 = new Uint32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.generation++;
  }
}
