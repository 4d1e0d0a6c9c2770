import { describe, expect, it } from 'vitest';
import { ALIGNMENT, Arena, type PageStore } from '../src/arena.js';

/** A page store that records what the arena asked for (no device). */
function recordingStore(): PageStore & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    createPage: (index, elements) => void calls.push(`create ${index} ${elements}`),
    growPage: (index, elements) => void calls.push(`grow ${index} ${elements}`),
  };
}

describe('Arena', () => {
  it('aligns and pads every allocation to a vec4, and gives zero-size requests one vector', () => {
    const store = recordingStore();
    const arena = new Arena({ maxPageElements: 1024, maxPages: 2, initialPageElements: 64 }, store);
    const a = arena.allocate(5);
    const b = arena.allocate(0);
    const c = arena.allocate(4);
    expect([a, b, c]).toEqual([
      { page: 0, offset: 0, capacity: 8 },
      { page: 0, offset: 8, capacity: ALIGNMENT },
      { page: 0, offset: 12, capacity: 4 },
    ]);
    expect(store.calls).toEqual(['create 0 64']);
  });

  it('reuses freed room first-fit and merges neighbours back into one block', () => {
    const arena = new Arena({ maxPageElements: 64, maxPages: 1, initialPageElements: 64 }, recordingStore());
    const blocks = [16, 16, 16, 16].map((n) => arena.allocate(n));
    expect(() => arena.allocate(4)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    arena.release(blocks[1]!);
    arena.release(blocks[2]!); // merges with [16, 32)
    expect(arena.allocate(32)).toEqual({ page: 0, offset: 16, capacity: 32 });
    arena.release(blocks[0]!);
    arena.release(blocks[3]!);
    expect(arena.allocate(12)).toEqual({ page: 0, offset: 0, capacity: 12 });
  });

  it('refuses to release the same room twice', () => {
    const arena = new Arena({ maxPageElements: 64, maxPages: 1, initialPageElements: 64 }, recordingStore());
    const a = arena.allocate(8);
    arena.release(a);
    expect(() => arena.release(a)).toThrow(/twice/);
  });

  it('grows the last page by doubling until the request fits, then opens a new page', () => {
    const store = recordingStore();
    const arena = new Arena({ maxPageElements: 256, maxPages: 2, initialPageElements: 32 }, store);
    expect(arena.allocate(24)).toEqual({ page: 0, offset: 0, capacity: 24 });
    // 8 free at the tail + growth: 32 → 64 → 128 gives 104 free, enough for 100.
    expect(arena.allocate(100)).toEqual({ page: 0, offset: 24, capacity: 100 });
    expect(arena.capacityOf(0)).toBe(128);
    expect(arena.allocate(200)).toEqual({ page: 1, offset: 0, capacity: 200 });
    // Page 0 at its maximum would still lack room: a new page, sized up from the initial one.
    expect(store.calls).toEqual(['create 0 32', 'grow 0 128', 'create 1 256']);
    expect(arena.pageCount).toBe(2);
  });

  it('names the limit for a tensor no page can hold, and runs out of pages with OUT_OF_MEMORY', () => {
    const store = recordingStore();
    const arena = new Arena({ maxPageElements: 64, maxPages: 2, initialPageElements: 64 }, store);
    expect(() => arena.allocate(65)).toThrow(expect.objectContaining({ code: 'INVALID_TENSOR', message: expect.stringMatching(/64 float32 elements.*maxStorageBufferBindingSize/) }));
    arena.allocate(64);
    arena.allocate(64);
    expect(() => arena.allocate(1)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }));
    expect(store.calls).toEqual(['create 0 64', 'create 1 64']);
  });
});
