import { describe, expect, it } from 'vitest';
import { runMaybeAsync, type MaybeAsyncTask } from '../src/maybe-async.js';

function* addTask(a: unknown, b: unknown, log: string[]): MaybeAsyncTask<number> {
  try {
    const x = (yield a) as number;
    const y = (yield b) as number;
    return x + y;
  } finally {
    log.push('finally');
  }
}

describe('runMaybeAsync', () => {
  it('stays synchronous when every value is plain', () => {
    const log: string[] = [];
    expect(runMaybeAsync(addTask(1, 2, log))).toBe(3);
    expect(log).toEqual(['finally']);
  });

  it('switches to a promise at the first promise', async () => {
    const result = runMaybeAsync(addTask(1, Promise.resolve(5), []));
    expect(result).toBeInstanceOf(Promise);
    expect(await result).toBe(6);
  });

  it('throws a rejection into the task so its finally blocks run', async () => {
    const log: string[] = [];
    await expect(runMaybeAsync(addTask(Promise.reject(new Error('boom')), 1, log))).rejects.toThrow('boom');
    expect(log).toEqual(['finally']);
  });

  it('throws synchronously for a synchronous failure', () => {
    function* failing(): MaybeAsyncTask<void> {
      yield 1;
      throw new Error('sync failure');
    }
    expect(() => runMaybeAsync(failing())).toThrow('sync failure');
  });
});
