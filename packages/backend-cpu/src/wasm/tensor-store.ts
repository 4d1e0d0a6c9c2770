import type { Block } from './block-allocator.js';
import type { SharedHeap } from './shared-heap.js';

/**
 * The tensors a backend created in its shared memory: allocation, release (explicit, or
 * when a dropped tensor is garbage-collected), and the address lookup the kernel runner
 * does for every tensor of every step.
 */
export class TensorStore {
  readonly #heap: SharedHeap;
  // A WeakMap lookup costs a third of reading `.buffer` and `.byteOffset` of a view on a
  // SharedArrayBuffer (both are builtin calls in V8): on a 1000-tensor step that is most of
  // the host-side cost of filling the slot table.
  readonly #blocks = new WeakMap<Float32Array, Block>();
  readonly #collected: FinalizationRegistry<Block>;
  #live = 0;

  constructor(heap: SharedHeap) {
    this.#heap = heap;
    this.#collected = new FinalizationRegistry<Block>((block) => this.#release(block));
  }

  /** Tensors created and not yet released. */
  get live(): number {
    return this.#live;
  }

  /** A new tensor of `length` elements (contents unspecified: freed memory is reused). */
  allocate(length: number): Float32Array {
    const block = this.#heap.allocate(length * 4);
    const tensor = this.#heap.float32View(block, length);
    this.#blocks.set(tensor, block);
    this.#collected.register(tensor, block, block);
    this.#live++;
    return tensor;
  }

  /** Releases a tensor of this store; ignores anything else, including a tensor already released. */
  release(tensor: Float32Array): void {
    const block = this.#blocks.get(tensor);
    if (block === undefined) return;
    this.#blocks.delete(tensor);
    this.#collected.unregister(block);
    this.#release(block);
  }

  /**
   * The byte address of `tensor` in the shared memory, or -1 when it lives elsewhere (a
   * user's array, to be staged). Views the user made into the memory count as inside.
   */
  addressOf(tensor: Float32Array): number {
    const block = this.#blocks.get(tensor);
    if (block !== undefined) return block.offset;
    return this.#heap.owns(tensor) ? tensor.byteOffset : -1;
  }

  #release(block: Block): void {
    if (block.freed) return;
    this.#heap.free(block);
    this.#live--;
  }
}
