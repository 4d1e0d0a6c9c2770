import ort from 'onnxruntime-node';

let live = 0;

/**
 * ONNX Runtime sessions that Rectify has created and not yet released, over every backend
 * in the process. Each ONNX backend holds two reductions (sum of squares, finiteness probe) and
 * one step graph per kind of step, each created on first use; `dispose()` releases them.
 *
 * @example
 * ```ts
 * const before = liveOnnxSessions();
 * const backend = onnxBackend();
 * // … train …
 * backend.dispose();
 * console.assert(liveOnnxSessions() === before);
 * ```
 */
export function liveOnnxSessions(): number {
  return live;
}

/**
 * Lazily created, owned `ort.InferenceSession`s, one per graph name. Creation is
 * asynchronous; a graph asked for twice while its session is being created shares the
 * same promise, so each graph gets exactly one session.
 *
 * @example
 * ```ts
 * const sessions = new SessionSet<'step'>({ executionProviders: ['cpu'] });
 * const session = await sessions.get('step', () => buildRAdamKernelModel('float32'));
 * sessions.releaseAll();
 * ```
 */
export class SessionSet<K extends string> {
  readonly #options: ort.InferenceSession.SessionOptions;
  readonly #pending = new Map<K, Promise<ort.InferenceSession>>();
  readonly #ready = new Map<K, ort.InferenceSession>();
  #released = false;

  constructor(options: ort.InferenceSession.SessionOptions) {
    this.#options = options;
  }

  /** Sessions created (or being created) and not released. */
  get size(): number {
    return this.#pending.size;
  }

  /** The session of graph `key`, created from `model()` the first time. */
  get(key: K, model: () => Uint8Array): Promise<ort.InferenceSession> {
    let session = this.#pending.get(key);
    if (session === undefined) {
      session = ort.InferenceSession.create(model(), this.#options).then((created) => {
        live++;
        // Released while it was being created: release it now rather than leak it.
        if (this.#released) release(created);
        else this.#ready.set(key, created);
        return created;
      });
      // A failed creation must not stay cached: the next call retries.
      session.catch(() => this.#pending.delete(key));
      this.#pending.set(key, session);
    }
    return session;
  }

  /** Releases every session: now for those created, on completion for those being created. */
  releaseAll(): void {
    this.#released = true;
    for (const session of this.#ready.values()) release(session);
    this.#ready.clear();
    this.#pending.clear();
  }
}

function release(session: ort.InferenceSession): void {
  live--;
  // The native session is freed synchronously inside release(); its promise only reports.
  void session.release();
}
