import { open, type FileHandle } from 'node:fs/promises';
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
import { checkpointIoError, isSystemError, startAtomicWrite, writeAll } from './atomic-file.js';

/**
 * Saves the optimizer's state (and optional `extra` JSON data) to `path`.
 *
 * A path ending in `.safetensors` gets a safetensors file, streamed: each tensor is written
 * to disk as the optimizer hands it over, so saving needs memory for one tensor, whatever
 * the model's size, and Python's `safetensors` (or a few lines of NumPy) reads it: tensors
 * `<parameter>.exp_avg`, `<parameter>.exp_avg_sq` and, with `includeParams`,
 * `<parameter>.param`; the options, steps and `extra` as JSON in `__metadata__`. Any other
 * path gets the JSON checkpoint (for small states: a V8 string caps it near 400 MB).
 *
 * Atomic and ordered: a crash at any moment leaves the previous file or the new one; the
 * file keeps its mode and owner; a symlink's target is replaced, not the link; of saves to
 * one file that overlap (in this process or others) the one called last wins, and an older
 * one that finishes later resolves without writing. The state saved is the state when
 * `saveCheckpoint` is called: steps called meanwhile wait for the snapshot.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, loadCheckpoint } from '@rectify/core/node';
 * await saveCheckpoint('run/opt.safetensors', optimizer, { epoch }, { includeParams: true });
 * const saved = await loadCheckpoint<{ epoch: number }>('run/opt.safetensors', optimizer); // null on a fresh run
 * const startEpoch = (saved?.epoch ?? -1) + 1;
 * ```
 *
 * @throws RectifyError `CHECKPOINT_IO` when the file cannot be written (its directory is
 *   missing, a directory is in its place, the disk is full or read-only, no permission):
 *   the previous checkpoint is intact. `HALTED` or `DISPOSED` from the optimizer. A
 *   `TypeError` when `extra` is not JSON-serialisable (nothing is written).
 */
export async function saveCheckpoint<Extra>(
  path: string,
  optimizer: RAdam<TensorBackend<any>>,
  extra?: Extra,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  // Everything up to the first await runs when called: the save's place in the order of
  // saves, and the optimizer's snapshot (queued before any later step).
  const atomic = startAtomicWrite(path);
  const savedAt = new Date().toISOString();
  const includeParams = options.includeParams === true;
  if (!isSafetensorsPath(path)) {
    const dict = optimizer.stateDict({ includeParams });
    try {
      const text = JSON.stringify(jsonCheckpoint(await dict, extra, savedAt));
      await (await atomic.open()).writeFile(text, 'utf8');
    } catch (error) {
      await atomic.abort();
      throw checkpointIoError(error, 'save', path);
    }
    await atomic.commit();
    return;
  }
  let handle: FileHandle | undefined;
  const sink = safetensorsStateSink(
    {
      // Straight to the file: no buffering, so memory stays at the one tensor core hands over.
      write: async (bytes) => {
        handle ??= await atomic.open();
        await writeAll(handle, bytes);
      },
    },
    { extra: JSON.stringify(extra ?? null), savedAt },
  );
  try {
    await optimizer.writeStateTo(sink, { includeParams });
    sink.finish();
  } catch (error) {
    await atomic.abort();
    throw checkpointIoError(error, 'save', path);
  }
  await atomic.commit();
}

/** Reads `end - begin` bytes at `begin` (fewer only at the end of the file). */
async function readRange(handle: FileHandle, begin: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(end - begin);
  let done = 0;
  while (done < bytes.length) {
    const { bytesRead } = await handle.read(bytes, done, bytes.length - done, begin + done);
    if (bytesRead === 0) return bytes.subarray(0, done);
    done += bytesRead;
  }
  return bytes;
}

/**
 * Opens `path` and reads what it holds (see {@link readCheckpointInfo}); `null` when there
 * is no file. The caller closes the handle.
 */
async function openCheckpoint(path: string): Promise<{ info: CheckpointInfo; file: CheckpointBytes; handle: FileHandle } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isSystemError(error) && error.code === 'ENOENT') return null;
    throw checkpointIoError(error, 'read', path);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) {
      throw new RectifyError('CHECKPOINT_IO', `Cannot read ${path}: a directory is in its place (EISDIR).`, path);
    }
    // One handle for every read: a save that replaces the file meanwhile does not change what it reads.
    const file: CheckpointBytes = {
      size: stats.size,
      readRange: (begin, end) => readRange(handle, begin, end).catch((error: unknown) => {
        throw checkpointIoError(error, 'read', path);
      }),
      readText: () => handle.readFile('utf8'),
    };
    return { info: await readCheckpointInfo(path, file), file, handle };
  } catch (error) {
    await handle.close();
    throw checkpointIoError(error, 'read', path);
  }
}

/**
 * Reads and checks a checkpoint file of either container without loading it anywhere: the
 * whole JSON checkpoint, or a safetensors checkpoint's header (metadata and tensor list,
 * no tensor data: cheap at any size). `null` when there is no file at `path`, as
 * {@link loadCheckpoint}.
 *
 * @throws RectifyError `INVALID_STATE_DICT` when the file is not a complete checkpoint
 *   (truncated, corrupt, another format), `UNSUPPORTED_STATE_VERSION` for another version,
 *   `CHECKPOINT_IO` when it cannot be read (a directory, no permission).
 */
export async function readCheckpoint<Extra = unknown>(path: string): Promise<CheckpointInfo<Extra> | null> {
  const opened = await openCheckpoint(path);
  if (opened === null) return null;
  await opened.handle.close();
  return opened.info as CheckpointInfo<Extra>;
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint} (either container, told apart by
 * content) into `optimizer`, validated fully first: on any error the optimizer is
 * unchanged. A safetensors file is streamed through one open handle, one tensor at a
 * time. Returns the `extra` data saved with it.
 *
 * A missing file is not an error: it returns `null` and changes nothing, so that one call
 * serves "resume if there is a checkpoint, else start" (`saved?.epoch`). `null` is also
 * what a checkpoint saved without `extra` returns: save an `extra` (or use
 * {@link readCheckpoint}) where the two must be told apart.
 *
 * @throws RectifyError `INVALID_STATE_DICT` (truncated, corrupt, another optimizer's
 *   parameters), `UNSUPPORTED_STATE_VERSION`, `SHAPE_MISMATCH`, `CHECKPOINT_IO` (a directory
 *   in its place, no permission, a read error).
 */
export async function loadCheckpoint<Extra = unknown>(path: string, optimizer: RAdam<TensorBackend<any>>): Promise<Extra | null> {
  const opened = await openCheckpoint(path);
  if (opened === null) return null;
  try {
    await loadCheckpointInfo(opened.info, opened.file, optimizer);
  } finally {
    await opened.handle.close();
  }
  return opened.info.extra as Extra | null;
}
