/** A value, or a promise of it: what a backend returns when it may be asynchronous. */
export type MaybePromise<T> = T | PromiseLike<T>;

/** `true` when `value` is a promise or any other thenable. */
export function isPromiseLike<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A computation written once as a generator that `yield`s every backend result it needs.
 * {@link runMaybeAsync} drives it synchronously for as long as the yielded values are
 * plain values, and switches to `await` only at the first promise. That is how one step
 * implementation serves synchronous backends (no promise, no microtask) and asynchronous
 * ones (GPU readback, ONNX Runtime) alike.
 */
export type MaybeAsyncTask<R> = Generator<unknown, R, unknown>;

/**
 * Runs a {@link MaybeAsyncTask}. Returns its result directly when every yielded value was
 * synchronous, else a promise of it. Errors surface the same way: thrown, or rejected.
 */
export function runMaybeAsync<R>(task: MaybeAsyncTask<R>): R | Promise<R> {
  let next = task.next();
  while (!next.done) {
    const value = next.value;
    if (isPromiseLike(value)) return finishAsync(task, value);
    next = task.next(value);
  }
  return next.value;
}

async function finishAsync<R>(task: MaybeAsyncTask<R>, first: PromiseLike<unknown>): Promise<R> {
  let pending: PromiseLike<unknown> | unknown = first;
  for (;;) {
    let settled: { value: unknown } | { error: unknown };
    try {
      settled = { value: isPromiseLike(pending) ? await pending : pending };
    } catch (error) {
      settled = { error };
    }
    // A rejected backend call is thrown into the task, so its own try/finally blocks run.
    const next = 'error' in settled ? task.throw(settled.error) : task.next(settled.value);
    if (next.done) return next.value;
    pending = next.value;
  }
}
