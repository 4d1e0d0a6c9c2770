import type { Block } from './block-allocator.js';
import type { KernelHeap } from './heap.js';

/** {@link TensorStore.addressOf} of an array outside the shared memory (a user's array, to be staged). */
export const OUTSIDE = -1;
/**
 * {@link TensorStore.addressOf} of a view whose memory is no longer its own: a tensor that
 * was released, or a view into the memory that lies in no live tensor. Its bytes may
 * belong to another tensor by now, so it must be neither read nor written.
 */
export const RELEASED = -2;

/**
 * The tensors a backend created in its shared memory: allocation, release (explicit, or
 * when a dropped tensor is garbage-collected), and the address lookup the kernel runner
 * does for every tensor of every step.
 */
export class TensorStore {
  readonly #heap: KernelHeap;
  // Every tensor this store created, to its block, kept after release (the block is then
  // `freed`): that is how a released tensor is told from a live one whose block now sits
  // at the same address. A WeakMap lookup costs a third of reading `.buffer` and
  // `.byteOffset` of a view on a SharedArrayBuffer (both are builtin calls in V8): on a
  // 1000-tensor step that is most of the host-side cost of filling the slot table.
  readonly #blocks = new WeakMap<Float32Array, Block>();
  // Views into the memory that the store did not create (a `subarray` of a tensor), to
  // the block of the tensor they lay in when first looked up: once that tensor is
  // released, so are they.
  readonly #views = new WeakMap<Float32Array, Block>();
  // Blocks of live tensors, sorted by offset: where a view's tensor is found.
  readonly #live: Block[] = [];
  readonly #collected: FinalizationRegistry<Block>;

  constructor(heap: KernelHeap) {
    this.#heap = heap;
    this.#collected = new FinalizationRegistry<Block>((block) => this.#release(block));
  }

  /** Tensors created and not yet released. */
  get live(): number {
    return this.#live.length;
  }

  /**
   * A new tensor of `length` elements (contents unspecified: freed memory is reused).
   *
   * @throws RectifyError `OUT_OF_MEMORY` when the memory cannot hold it (nothing allocated then).
   */
  allocate(length: number): Float32Array {
    const block = this.#heap.allocate(length * 4);
    const tensor = this.#heap.float32View(block, length);
    this.#blocks.set(tensor, block);
    this.#collected.register(tensor, block, block);
    this.#live.splice(this.#firstBlockAfter(block.offset), 0, block);
    return tensor;
  }

  /** Releases a tensor of this store; ignores anything else, including a tensor already released. */
  release(tensor: Float32Array): void {
    const block = this.#blocks.get(tensor);
    if (block === undefined || block.freed) return;
    this.#collected.unregister(block);
    this.#release(block);
  }

  /**
   * The byte address of `tensor` in the shared memory; {@link OUTSIDE} when it lives
   * elsewhere (a user's array, to be staged); {@link RELEASED} when its memory is not its
   * own any more. A view the user made into a live tensor counts as inside.
   */
  addressOf(tensor: Float32Array): number {
    const block = this.#blocks.get(tensor);
    if (block !== undefined) return block.freed ? RELEASED : block.offset;
    if (!this.#heap.owns(tensor)) return OUTSIDE;
    const owner = this.#ownerOf(tensor);
    return owner === undefined || owner.freed ? RELEASED : tensor.byteOffset;
  }

  /** The block of the live tensor that view `view` lies in, remembered from its first lookup. */
  #ownerOf(view: Float32Array): Block | undefined {
    let owner = this.#views.get(view);
    if (owner === undefined) {
      const start = view.byteOffset;
      const candidate = this.#live[this.#firstBlockAfter(start) - 1];
      if (candidate === undefined || start + view.byteLength > candidate.offset + candidate.bytes) return undefined;
      owner = candidate;
      this.#views.set(view, owner);
    }
    return owner;
  }

  /** Index in {@link TensorStore.#live} of the first block starting after byte `offset`. */
  #firstBlockAfter(offset: number): number {
    const live = this.#live;
    let low = 0;
    let high = live.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (live[mid]!.offset <= offset) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  #release(block: Block): void {
    if (block.freed) return;
    this.#heap.free(block);
    // The block is live, hence in the list, just before the first one starting after it.
    this.#live.splice(this.#firstBlockAfter(block.offset) - 1, 1);
  }
}
