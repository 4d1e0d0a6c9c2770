import { randomUUID } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TensorBackend } from '../backend.js';
import { RectifyError } from '../errors.js';
import type { RAdam } from '../radam.js';
import type { RAdamStateDict } from '../state/state-dict.js';

/** Identifies a Rectify checkpoint file. */
export const CHECKPOINT_FORMAT = 'rectify.checkpoint';
/** The checkpoint file version this release writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** What a checkpoint file holds. */
export interface Checkpoint<Extra = unknown> {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: number;
  /** When it was written (ISO 8601). */
  readonly savedAt: string;
  /** The optimizer's state dict. */
  readonly optimizer: RAdamStateDict;
  /** Whatever the caller saved beside it (epoch, model weights, …); JSON. */
  readonly extra: Extra | null;
}

/**
 * Writes `text` to `path` so that a crash at any moment leaves either the previous file
 * or the new one, never a mix: write a temporary file beside it, fsync it, rename it over
 * `path` (atomic on POSIX file systems), then fsync the directory so the rename itself is
 * durable.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  if (handle === undefined) return; // platforms that cannot open directories (Windows)
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/**
 * Saves the optimizer's state (and optional `extra` JSON data) to `path`, atomically: a
 * crash mid-write leaves the previous checkpoint intact.
 *
 * @example
 * ```ts
 * import { saveCheckpoint, loadCheckpoint } from '@rectify/core/node';
 * await saveCheckpoint('run/opt.json', optimizer, { epoch });
 * const saved = await loadCheckpoint<{ epoch: number }>('run/opt.json', optimizer); // saved?.epoch
 * ```
 */
export async function saveCheckpoint<Extra>(
  path: string,
  optimizer: RAdam<TensorBackend<any>>,
  extra?: Extra,
): Promise<void> {
  const checkpoint: Checkpoint<Extra> = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    savedAt: new Date().toISOString(),
    optimizer: await optimizer.stateDict(),
    extra: extra ?? null,
  };
  await writeFileAtomic(path, JSON.stringify(checkpoint));
}

/**
 * Reads and checks a checkpoint file without loading it anywhere.
 *
 * @throws RectifyError `INVALID_STATE_DICT` when the file is not a complete checkpoint
 *   (truncated, not JSON, another format), `UNSUPPORTED_STATE_VERSION` for another version.
 */
export async function readCheckpoint<Extra = unknown>(path: string): Promise<Checkpoint<Extra>> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RectifyError('INVALID_STATE_DICT', `Checkpoint ${path} is not valid JSON (truncated or corrupt).`, 'path');
  }
  const candidate = parsed as Partial<Checkpoint<Extra>> | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.format !== CHECKPOINT_FORMAT) {
    throw new RectifyError('INVALID_STATE_DICT', `${path} is not a Rectify checkpoint.`, 'path');
  }
  if (candidate.version !== CHECKPOINT_VERSION) {
    throw new RectifyError(
      'UNSUPPORTED_STATE_VERSION',
      `Checkpoint ${path} has version ${String(candidate.version)}; this release reads version ${CHECKPOINT_VERSION}.`,
      'version',
    );
  }
  return candidate as Checkpoint<Extra>;
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint} into `optimizer` (validated fully
 * first: on any error the optimizer is unchanged) and returns the `extra` data saved with it.
 */
export async function loadCheckpoint<Extra = unknown>(
  path: string,
  optimizer: RAdam<TensorBackend<any>>,
): Promise<Extra | null> {
  const checkpoint = await readCheckpoint<Extra>(path);
  await optimizer.loadStateDict(checkpoint.optimizer);
  return checkpoint.extra;
}
