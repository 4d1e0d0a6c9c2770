/**
 * Checkpoints in the browser's Origin Private File System, with the API and the containers
 * of `@rectify/core/node`.
 *
 * Old or new, never torn: a save writes through `FileSystemFileHandle.createWritable()`,
 * whose writes go to a swap file that `close()` puts in place of the file at once; a tab or
 * browser that dies before `close()` leaves the previous file. Ordered: every save asks for
 * an exclusive Web Lock named after the file when it is called, and commits (`close()`)
 * only once it holds it; locks are granted in request order across the origin's tabs and
 * workers, so overlapping saves commit in the order they were called and the last one
 * called wins. A load holds a shared lock on the file while it reads, so no commit
 * replaces the file under it.
 */
import type { TensorBackend } from '../backend.js';
import {
  isSafetensorsPath,
  jsonCheckpoint,
  loadCheckpointInfo,
  readCheckpointInfo,
  type CheckpointBytes,
  type CheckpointInfo,
  type SaveCheckpointOptions,
} from '../checkpoint/checkpoint-file.js';
import { safetensorsStateSink } from '../checkpoint/state-file.js';
import { RectifyError } from '../errors.js';
import type { RAdam } from '../radam.js';

// The few File System Access and Web Locks shapes used here (core compiles without the DOM's types).
/** The part of a `FileSystemWritableFileStream` a save uses. */
export interface CheckpointWritable {
  write(data: Uint8Array | string): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}
/** The part of a `File` a load reads. */
export interface CheckpointFileSnapshot {
  readonly size: number;
  slice(begin: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
  text(): Promise<string>;
}
/** The part of a `FileSystemFileHandle` a save or a load uses. */
export interface CheckpointFileHandle {
  getFile(): Promise<CheckpointFileSnapshot>;
  createWritable(options?: { keepExistingData?: boolean }): Promise<CheckpointWritable>;
}
/** A directory of the Origin Private File System (or any `FileSystemDirectoryHandle`). */
export interface CheckpointDirectory {
  getDirectoryHandle(name: string): Promise<CheckpointDirectory>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<CheckpointFileHandle>;
}
interface LockManager {
  request<R>(name: string, options: { mode: 'exclusive' | 'shared' }, callback: () => Promise<R>): Promise<R>;
}

/** Options of the browser checkpoint functions. */
export interface BrowserCheckpointOptions {
  /** The directory paths start from; default the origin's OPFS root (`navigator.storage.getDirectory()`). */
  readonly directory?: CheckpointDirectory;
}

interface BrowserNavigator {
  readonly storage?: { getDirectory?(): Promise<CheckpointDirectory> };
  readonly locks?: LockManager;
}

const browserNavigator = (): BrowserNavigator | undefined => (globalThis as { navigator?: BrowserNavigator }).navigator;

const NAMES: Readonly<Record<string, string>> = {
  NotFoundError: 'its directory does not exist',
  TypeMismatchError: 'a directory is in its place',
  QuotaExceededError: 'the storage quota is exhausted (disk full)',
  NoModificationAllowedError: 'it is locked or read-only',
  NotAllowedError: 'permission denied',
  InvalidStateError: 'the file changed or the storage went away',
  NotReadableError: 'the file changed while it was read',
};

/** A DOMException as `CHECKPOINT_IO`; anything else unchanged. */
function ioError(error: unknown, doing: string, path: string): unknown {
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !Object.hasOwn(NAMES, name) || error instanceof RectifyError) return error;
  const intact = doing === 'save' ? ' The previous file is intact.' : '';
  return new RectifyError('CHECKPOINT_IO', `Cannot ${doing} ${path}: ${NAMES[name]} (${name}).${intact}`, path, { cause: error });
}

/** The directory and file name of `path` (slash-separated, from `directory`). */
async function locate(path: string, options: BrowserCheckpointOptions): Promise<{ directory: CheckpointDirectory; name: string }> {
  let directory = options.directory ?? (await browserNavigator()?.storage?.getDirectory?.());
  if (directory === undefined) {
    throw new RectifyError('CHECKPOINT_IO', `Cannot use ${path}: this environment has no Origin Private File System.`, path);
  }
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  const name = parts.pop();
  if (name === undefined || parts.includes('..')) throw new RectifyError('CHECKPOINT_IO', `"${path}" is not a file path.`, path);
  for (const part of parts) directory = await directory.getDirectoryHandle(part);
  return { directory, name };
}

/** This agent's lock queues, where Web Locks are missing: the same order within one tab. */
const localLocks = new Map<string, Promise<unknown>>();

/**
 * Runs `critical` holding the lock on `path`, requested now (call order is grant order).
 * Web Locks where there are, else a queue of this tab or worker.
 */
function withLock<R>(path: string, mode: 'exclusive' | 'shared', critical: () => Promise<R>): Promise<R> {
  const name = `rectify-checkpoint:${path}`;
  const locks = browserNavigator()?.locks;
  if (locks !== undefined) return locks.request(name, { mode }, critical);
  const run = (localLocks.get(name) ?? Promise.resolve()).then(critical, critical);
  localLocks.set(name, run.catch(() => undefined));
  return run;
}

/**
 * Saves the optimizer's state (and optional `extra` JSON data) to `path` in the Origin
 * Private File System: safetensors for a path ending in `.safetensors` (streamed, one
 * tensor in memory at a time), JSON otherwise, as `@rectify/core/node`'s `saveCheckpoint`.
 * The state saved is the state when it is called.
 *
 * @throws RectifyError `CHECKPOINT_IO` (a missing directory, a directory in its place, the
 *   quota exhausted): the previous checkpoint is intact. `HALTED` or `DISPOSED` from the
 *   optimizer.
 */
export async function saveCheckpoint<Extra>(
  path: string,
  optimizer: RAdam<TensorBackend<any>>,
  extra?: Extra,
  options: SaveCheckpointOptions & BrowserCheckpointOptions = {},
): Promise<void> {
  // Up to the first await, when called: the snapshot, then this save's place in the order.
  const includeParams = options.includeParams === true;
  const savedAt = new Date().toISOString();
  let writable: Promise<CheckpointWritable> | undefined;
  const open = (): Promise<CheckpointWritable> =>
    (writable ??= locate(path, options).then(async ({ directory, name }) => (await directory.getFileHandle(name, { create: true })).createWritable()));
  let written: Promise<void>;
  if (isSafetensorsPath(path)) {
    const sink = safetensorsStateSink(
      { write: async (bytes) => (await open()).write(bytes) },
      { extra: JSON.stringify(extra ?? null), savedAt },
    );
    written = Promise.resolve(optimizer.writeStateTo(sink, { includeParams })).then(() => sink.finish());
  } else {
    written = Promise.resolve(optimizer.stateDict({ includeParams })).then(async (dict) => (await open()).write(JSON.stringify(jsonCheckpoint(dict, extra, savedAt))));
  }
  written.catch(() => undefined); // handled in the lock's turn, maybe later: not an unhandled rejection
  const committed = withLock(path, 'exclusive', async () => {
    try {
      await written;
    } catch (error) {
      if (writable !== undefined) await (await writable.catch(() => undefined))?.abort().catch(() => undefined);
      throw error;
    }
    await (await open()).close(); // the swap file replaces the file, at once
  });
  try {
    await committed;
  } catch (error) {
    throw ioError(error, 'save', path);
  }
}

/** Opens `path` under a shared lock and hands `use` its content; `null` when there is no file. */
async function withCheckpoint<R>(path: string, options: BrowserCheckpointOptions, use: (info: CheckpointInfo, file: CheckpointBytes) => Promise<R>): Promise<R | null> {
  try {
    return await withLock(path, 'shared', async () => {
      const { directory, name } = await locate(path, options);
      let snapshot: CheckpointFileSnapshot;
      try {
        snapshot = await (await directory.getFileHandle(name)).getFile();
      } catch (error) {
        if ((error as { name?: unknown }).name === 'NotFoundError') return null;
        throw error;
      }
      const file: CheckpointBytes = {
        size: snapshot.size,
        readRange: async (begin, end) => new Uint8Array(await snapshot.slice(begin, end).arrayBuffer()),
        readText: () => snapshot.text(),
      };
      return use(await readCheckpointInfo(path, file), file);
    });
  } catch (error) {
    if ((error as { name?: unknown }).name === 'NotFoundError') return null; // a missing directory: nothing saved yet
    throw ioError(error, 'read', path);
  }
}

/**
 * Reads and checks a checkpoint without loading it (a safetensors file's header only), as
 * `@rectify/core/node`'s `readCheckpoint`. `null` when there is no file at `path`.
 */
export function readCheckpoint<Extra = unknown>(path: string, options: BrowserCheckpointOptions = {}): Promise<CheckpointInfo<Extra> | null> {
  return withCheckpoint(path, options, async (info) => info as CheckpointInfo<Extra>);
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint} into `optimizer`, validated fully
 * first (on any error the optimizer is unchanged), as `@rectify/core/node`'s
 * `loadCheckpoint`. Returns the `extra` data saved with it; `null` when there is no file at
 * `path` (resume or start) or it was saved without `extra`.
 */
export async function loadCheckpoint<Extra = unknown>(
  path: string,
  optimizer: RAdam<TensorBackend<any>>,
  options: BrowserCheckpointOptions = {},
): Promise<Extra | null> {
  return withCheckpoint(path, options, async (info, file) => {
    await loadCheckpointInfo(info, file, optimizer);
    return info.extra as Extra | null;
  });
}
