/**
 * A checkpoint file of either container, without any file system: what the Node and the
 * browser entry points share. They bring the bytes (random-access reads of one file);
 * this tells the containers apart, parses and validates them, and loads them.
 */
import type { TensorBackend } from '../backend.js';
import { RectifyError } from '../errors.js';
import type { MaybePromise } from '../maybe-async.js';
import type { RAdam } from '../radam.js';
import type { RAdamStateDict } from '../state/state-dict.js';
import { looksLikeSafetensors, parseSafetensorsHeader, readSafetensorsHeaderLength } from './safetensors.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  readCheckpointHeader,
  safetensorsStateSource,
  type SafetensorsCheckpointHeader,
} from './state-file.js';

/** What a JSON checkpoint file holds. */
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

/** `readCheckpoint`'s answer for a JSON checkpoint: the whole file. */
export interface JsonCheckpointInfo<Extra = unknown> extends Checkpoint<Extra> {
  readonly container: 'json';
}

/** `readCheckpoint`'s answer for a safetensors checkpoint: its header, no tensor data. */
export interface SafetensorsCheckpointInfo<Extra = unknown> extends SafetensorsCheckpointHeader<Extra> {
  readonly container: 'safetensors';
}

/** What `readCheckpoint` finds in a checkpoint file of either container. */
export type CheckpointInfo<Extra = unknown> = JsonCheckpointInfo<Extra> | SafetensorsCheckpointInfo<Extra>;

/** Options of `saveCheckpoint`. */
export interface SaveCheckpointOptions {
  /**
   * Save every parameter's values too: one file is then enough to resume training (loading
   * restores them). Default `false`: for parameters kept elsewhere (a tfjs `model.save`).
   */
  readonly includeParams?: boolean;
}

/** `true` for a path that `saveCheckpoint` writes as safetensors (any other gets JSON). */
export function isSafetensorsPath(path: string): boolean {
  return /\.safetensors$/i.test(path);
}

/** A JSON checkpoint's content. */
export function jsonCheckpoint<Extra>(optimizer: RAdamStateDict, extra: Extra | undefined, savedAt: string): Checkpoint<Extra> {
  return { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, savedAt, optimizer, extra: extra ?? null };
}

/** Random access to one open file: its size and its bytes. */
export interface CheckpointBytes {
  readonly size: number;
  /** Bytes `begin … end` (fewer only at the end of the file); the same every time. */
  readRange(begin: number, end: number): MaybePromise<Uint8Array<ArrayBuffer>>;
  /** The whole file as UTF-8 text. */
  readText(): MaybePromise<string>;
}

function notACheckpoint(path: string, why: string): RectifyError {
  return new RectifyError('INVALID_STATE_DICT', `Checkpoint ${path} ${why}`, 'path');
}

function parseJsonCheckpoint(path: string, text: string): JsonCheckpointInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw notACheckpoint(path, 'is not valid JSON (truncated or corrupt).');
  }
  const candidate = parsed as Partial<Checkpoint> | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.format !== CHECKPOINT_FORMAT) {
    throw notACheckpoint(path, 'is not a Rectify checkpoint.');
  }
  if (candidate.version !== CHECKPOINT_VERSION) {
    throw new RectifyError(
      'UNSUPPORTED_STATE_VERSION',
      `Checkpoint ${path} has version ${String(candidate.version)}; this release reads version ${CHECKPOINT_VERSION}.`,
      'version',
    );
  }
  return { ...(candidate as Checkpoint), container: 'json' };
}

/**
 * Reads what a checkpoint file holds, telling the containers apart by content (a
 * safetensors file starts with a small little-endian length and then `{`; a JSON one with
 * `{"`): the whole JSON checkpoint, or a safetensors header (validated: sizes, offsets,
 * metadata) without its tensors.
 *
 * @throws RectifyError `INVALID_STATE_DICT`, `UNSUPPORTED_STATE_VERSION`.
 */
export async function readCheckpointInfo(path: string, file: CheckpointBytes): Promise<CheckpointInfo> {
  const prefix = await file.readRange(0, 9);
  if (!looksLikeSafetensors(prefix)) return parseJsonCheckpoint(path, await file.readText());
  const headerLength = readSafetensorsHeaderLength(prefix, file.size);
  const header = parseSafetensorsHeader(await file.readRange(8, 8 + headerLength), file.size);
  return { ...readCheckpointHeader(header), container: 'safetensors' };
}

/**
 * Loads a checkpoint read by {@link readCheckpointInfo} into `optimizer`, a safetensors
 * file streamed tensor by tensor from `file` (validated fully before anything is written).
 */
export async function loadCheckpointInfo(info: CheckpointInfo, file: CheckpointBytes, optimizer: RAdam<TensorBackend<any>>): Promise<void> {
  if (info.container === 'json') await optimizer.loadStateDict(info.optimizer);
  else await optimizer.loadStateFrom(safetensorsStateSource(info, (begin, end) => file.readRange(begin, end)));
}
