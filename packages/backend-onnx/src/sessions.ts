import type { InferenceSession } from 'onnxruntime-common';
import type { OrtRuntime, OrtSessionOptions } from './ort-runtime.js';

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
 * Lazily created, owned `InferenceSession`s of one {@link OrtRuntime}, one per graph name. Creation is
 * asynchronous; a graph asked for twice while its session is being created shares the
 * same promise, so each graph gets exactly one session.
 *
 * @example
 * ```ts
 * const sessions = new SessionSet<'step'>(ort, { executionProviders: ['cpu'] });
 * const session = await sessions.get('step', () => buildRAdamKernelModel('float32'));
 * sessions.releaseAll();
 * ```
 */
export class SessionSet<K extends string> {
  readonly #ort: OrtRuntime;
  readonly #options: OrtSessionOptions;
  readonly #pending = new Map<K, Promise<InferenceSession>>();
  readonly #ready = new Map<K, InferenceSession>();
  #released = false;

  /** Sessions of runtime `ort`, each created with `options`. */
  constructor(ort: OrtRuntime, options: OrtSessionOptions) {
    this.#ort = ort;
    this.#options = options;
  }

  /** Sessions created (or being created) and not released. */
  get size(): number {
    return this.#pending.size;
  }

  /** The session of graph `key`, created from `model()` the first time. */
  get(key: K, model: () => Uint8Array): Promise<InferenceSession> {
    let session = this.#pending.get(key);
    if (session === undefined) {
      session = this.#ort.InferenceSession.create(model(), this.#options).then((created) => {
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

function release(session: InferenceSession): void {
  live--;
  // onnxruntime-node frees the native session synchronously inside release(), and
  // onnxruntime-web its WebAssembly one; the promise only reports.
  void session.release();
}
