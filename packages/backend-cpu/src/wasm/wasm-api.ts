/**
 * The slice of the WebAssembly JavaScript API this backend uses. The repository compiles
 * against `lib: ES2022`, which does not declare the `WebAssembly` global (it lives in
 * lib.dom), so these few members are typed here and kept out of the public types.
 */

/** A `WebAssembly.Memory`: one linear memory, shared between threads or the page's own. */
export interface WasmMemory {
  /**
   * The memory's bytes. Shared: a new `SharedArrayBuffer` object after every `grow`, the
   * old ones still valid. Plain: `grow` detaches the old `ArrayBuffer`, unless the memory
   * was turned into a resizable one ({@link WasmMemory.toResizableBuffer}).
   */
  readonly buffer: ArrayBufferLike;
  /** Adds `deltaPages` pages of 64 KiB; returns the previous size in pages. */
  grow(deltaPages: number): number;
  /**
   * Makes `buffer` a resizable `ArrayBuffer` that `grow` enlarges in place, so that views
   * survive (the JS API's resizable-buffer integration: Chromium 136+; absent in Node 20).
   */
  toResizableBuffer?(): ArrayBuffer;
}

/** A compiled `WebAssembly.Module` (opaque; it can be posted to workers). */
export interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}

/** A `WebAssembly.Global` as exported by the kernel: its layout constants. */
export interface WasmGlobal {
  readonly value: number;
}

/** A `WebAssembly.Instance`. */
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WebAssemblyNamespace {
  Memory: {
    new (descriptor: { initial: number; maximum: number; shared: boolean }): WasmMemory;
    readonly prototype: Pick<WasmMemory, 'toResizableBuffer'>;
  };
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

/** The `WebAssembly` global, typed with the members above. */
export const webAssembly: WebAssemblyNamespace = (globalThis as unknown as { WebAssembly: WebAssemblyNamespace })
  .WebAssembly;

/** Bytes in a WebAssembly page. */
export const PAGE_BYTES = 65536;
