/**
 * Replacing a file atomically and in call order, as databases do it.
 *
 * A save writes a temporary file beside the target (same directory: same file system, so
 * `rename` is atomic), fsyncs it, renames it over the target and fsyncs the directory. On
 * top of that:
 *
 * - Mode and owner: the temporary file gets the existing file's mode (a 0600 checkpoint
 *   stays 0600, whatever the umask) and, where permitted, its owner.
 * - Symlinks: the target is the link's final destination (resolved when the save is
 *   called), so the link stays a link and its target gets the new content.
 * - Order: concurrent saves to one target, from this process or others, end with the
 *   content of the save that was called last. Each save takes a stamp when called
 *   (`process.hrtime`: the system-wide monotonic clock, comparable between processes of
 *   one machine) and reads the target's commit record (`.<name>.commit`, the stamp of the
 *   last save that committed). It commits under a lock file (`.<name>.lock`, created with
 *   `O_EXCL`): if another save committed meanwhile (the record changed since this one was
 *   called) and was called later, this save's file is discarded instead of renamed; the
 *   newer content stays. A record that did not change since the call is never compared, so
 *   stamps of another boot never matter.
 * - Crashes: a lock whose process is dead (or older than a minute) is broken; temporary
 *   files of dead processes are deleted by the next save of the same target.
 * - Errors: every file-system failure (a missing directory, a directory in the way, disk
 *   full, a read-only file system, no permission) is a `RectifyError` `CHECKPOINT_IO` with
 *   the system error as `cause`; the target is untouched and the temporary file removed.
 *
 * Local file systems only: the lock and the stamps assume one machine.
 */
import { randomUUID } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { link, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RectifyError } from '../errors.js';

/** A lock older than this is taken as left by a hung or crashed process. */
const LOCK_STALE_MS = 60_000;
/** An unreadable (empty) lock is a creator killed between `open` and `write` once it is this old. */
const EMPTY_LOCK_STALE_MS = 5_000;
/** Symlinks followed before giving up, as the kernel's `ELOOP` limit. */
const MAX_SYMLINKS = 40;

/** Temporary files of this process's saves in flight: never swept as leftovers. */
const inFlight = new Set<string>();
/** Per target, the tail of this process's queue of commits (the lock file is for other processes). */
const localQueues = new Map<string, Promise<unknown>>();
let sequence = 0;

/** A node system error (`ENOENT`, `ENOSPC`, …). */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && 'syscall' in error;
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'its directory does not exist',
  EISDIR: 'a directory is in its place',
  ENOTDIR: 'a part of its path is not a directory',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'an I/O error',
};

/** `error` as a `CHECKPOINT_IO` RectifyError when it is a system error; anything else unchanged. */
export function checkpointIoError(error: unknown, doing: string, path: string): unknown {
  if (!isSystemError(error)) return error;
  const reason = REASONS[error.code] ?? error.message;
  const intact = doing === 'save' ? ' The previous file is intact.' : '';
  return new RectifyError('CHECKPOINT_IO', `Cannot ${doing} ${path}: ${reason} (${error.code}).${intact}`, path, { cause: error });
}

/** When a save was called: compared between saves that overlap in time. */
interface Stamp {
  /** `process.hrtime.bigint()` at the call. */
  readonly time: bigint;
  readonly pid: number;
  /** Orders saves of one process called within one clock tick. */
  readonly sequence: number;
}

function compareStamps(a: Stamp, b: Stamp): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  if (a.pid !== b.pid) return a.pid - b.pid;
  return a.sequence - b.sequence;
}

function formatRecord(stamp: Stamp): string {
  return `${JSON.stringify({ time: stamp.time.toString(), pid: stamp.pid, sequence: stamp.sequence, id: randomUUID() })}\n`;
}

function parseRecord(text: string): Stamp | undefined {
  try {
    const value = JSON.parse(text) as { time?: unknown; pid?: unknown; sequence?: unknown };
    if (typeof value.time !== 'string' || typeof value.pid !== 'number' || typeof value.sequence !== 'number') return undefined;
    return { time: BigInt(value.time), pid: value.pid, sequence: value.sequence };
  } catch {
    return undefined;
  }
}

/** The final destination of `path` through any chain of symlinks (a dangling link's target included). */
function resolveTarget(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
    let isLink: boolean;
    try {
      isLink = lstatSync(current).isSymbolicLink();
    } catch {
      return current; // missing (or unreadable): the save's own open reports it
    }
    if (!isLink) return current;
    current = resolve(dirname(current), readlinkSync(current));
  }
  const error = Object.assign(new Error(`ELOOP: too many symbolic links, ${path}`), { code: 'ELOOP', syscall: 'stat', path });
  throw checkpointIoError(error, 'save', path);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
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

/** Writes all of `bytes` at the handle's position (a write may take fewer bytes than asked). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

/**
 * One atomic replacement of a file: {@link startAtomicWrite} (when the save is called),
 * then {@link AtomicWrite.open}, writes to the handle, and {@link AtomicWrite.commit} or
 * {@link AtomicWrite.abort}.
 */
export interface AtomicWrite {
  /** The file that will be replaced (symlinks resolved). */
  readonly target: string;
  /**
   * Sweeps leftovers of crashed saves and creates the temporary file, with the target's
   * mode and owner.
   *
   * @throws RectifyError `CHECKPOINT_IO`.
   */
  open(): Promise<FileHandle>;
  /**
   * Fsyncs and closes the temporary file and puts it in place, unless a save called later
   * already committed (then it is discarded and `false` returned: the newer file stays).
   *
   * @throws RectifyError `CHECKPOINT_IO` (the temporary file is removed).
   */
  commit(): Promise<boolean>;
  /** Closes and removes the temporary file; never throws. */
  abort(): Promise<void>;
}

/**
 * Starts an atomic replacement of `path`: takes the save's stamp and reads the target's
 * commit record now, synchronously, so that "called last" means exactly that. Nothing is
 * created yet.
 */
export function startAtomicWrite(path: string): AtomicWrite {
  const target = resolveTarget(path);
  const directory = dirname(target);
  const name = basename(target);
  const lockPath = join(directory, `.${name}.lock`);
  const recordPath = join(directory, `.${name}.commit`);
  let seenRecord: string | undefined;
  try {
    seenRecord = readFileSync(recordPath, 'utf8');
  } catch {
    seenRecord = undefined; // no save committed yet (or none can: open reports why)
  }
  const stamp: Stamp = { time: process.hrtime.bigint(), pid: process.pid, sequence: sequence++ };
  const temporary = join(directory, `.${name}.${process.pid}.${randomUUID()}.tmp`);
  let handle: FileHandle | undefined;
  const fail = (error: unknown, doing: string): unknown => checkpointIoError(error, doing, path);

  const sweepLeftovers = async (): Promise<void> => {
    // Ours: ".<name>.<pid>.<uuid>.tmp"; the older "<name>.<pid>.<uuid>.tmp" of version 0.1.
    // Also the lock's, moved aside by a process that crashed while breaking it.
    const pattern = new RegExp(`^\\.?${escapeRegExp(name)}(?:\\.lock)?\\.(\\d+)\\.[0-9a-f-]{36}\\.tmp$`);
    const entries = await readdir(directory).catch(() => [] as string[]);
    for (const entry of entries) {
      const match = pattern.exec(entry);
      if (match === null) continue;
      const pid = Number(match[1]);
      const file = join(directory, entry);
      // A file of this process that no save of it is writing was left by a crashed
      // process that had the same pid (containers reuse pids).
      const leftover = pid === process.pid ? !inFlight.has(file) : !isAlive(pid);
      if (leftover) await unlink(file).catch(() => undefined);
    }
  };

  // The commit record is written to its own temporary file before the lock is taken, so
  // that committing is two renames: nothing there needs disk space, nothing can half-fail.
  const recordTemporary = join(directory, `.${name}.${process.pid}.${randomUUID()}.tmp`);

  /** Whether the newest committed save was called after this one. */
  const superseded = async (): Promise<boolean> => {
    const current = await readFile(recordPath, 'utf8').catch(() => undefined);
    if (current === seenRecord || current === undefined) return false; // nobody committed since the call
    const theirs = parseRecord(current);
    return theirs !== undefined && compareStamps(theirs, stamp) > 0;
  };

  const removeTemporary = async (): Promise<void> => {
    if (handle !== undefined) {
      await handle.close().catch(() => undefined);
      handle = undefined;
    }
    for (const file of [temporary, recordTemporary]) {
      await unlink(file).catch(() => undefined);
      inFlight.delete(file);
    }
  };

  return {
    target,
    async open(): Promise<FileHandle> {
      let existing;
      try {
        existing = await stat(target);
      } catch (error) {
        if (!isSystemError(error) || error.code !== 'ENOENT') throw fail(error, 'save');
      }
      if (existing?.isDirectory()) {
        const error = Object.assign(new Error(`EISDIR: illegal operation on a directory, ${target}`), { code: 'EISDIR', syscall: 'open', path: target });
        throw fail(error, 'save');
      }
      await sweepLeftovers();
      inFlight.add(temporary);
      inFlight.add(recordTemporary);
      try {
        const record = await open(recordTemporary, 'wx');
        try {
          await record.writeFile(formatRecord(stamp), 'utf8');
        } finally {
          await record.close();
        }
        handle = await open(temporary, 'wx', existing === undefined ? 0o666 : existing.mode & 0o7777);
        if (existing !== undefined) {
          await handle.chmod(existing.mode & 0o7777); // the umask applied at creation
          if (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.()) {
            await handle.chown(existing.uid, existing.gid).catch(() => undefined); // only root may give files away
          }
        }
      } catch (error) {
        await removeTemporary();
        throw fail(error, 'save');
      }
      return handle;
    },

    async commit(): Promise<boolean> {
      let replaced: boolean;
      try {
        if (handle === undefined) throw new Error('AtomicWrite.commit() before open()');
        await handle.sync();
        await handle.close();
        handle = undefined;
        replaced = await withLock(lockPath, async () => {
          if (await superseded()) return false;
          await rename(temporary, target);
          inFlight.delete(temporary);
          // The checkpoint is in place: a failure now only leaves the record one commit old.
          await rename(recordTemporary, recordPath).catch(() => undefined);
          return true;
        });
      } catch (error) {
        await removeTemporary();
        throw fail(error, 'save');
      }
      await removeTemporary(); // discarded (superseded), or only the record's if its rename failed
      if (replaced) await syncDirectory(directory); // makes the rename itself durable
      return replaced;
    },

    abort: removeTemporary,
  };
}

/**
 * Runs `critical` holding the target's lock: first this process's queue for the lock
 * (saves of one process never poll each other), then the lock file (other processes).
 */
async function withLock<R>(lockPath: string, critical: () => Promise<R>): Promise<R> {
  const previous = localQueues.get(lockPath) ?? Promise.resolve();
  const run = previous.then(async () => {
    const token = await acquireLockFile(lockPath);
    try {
      return await critical();
    } finally {
      await releaseLockFile(lockPath, token);
    }
  });
  const tail = run.catch(() => undefined);
  localQueues.set(lockPath, tail);
  void tail.then(() => {
    if (localQueues.get(lockPath) === tail) localQueues.delete(lockPath);
  });
  return run;
}

/** Creates the lock file (`O_EXCL`), waiting while a live process holds it and breaking a stale one. */
async function acquireLockFile(lockPath: string): Promise<string> {
  const token = `${process.pid}\n${randomUUID()}\n`;
  let delay = 1;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(token, 'utf8');
      } finally {
        await handle.close();
      }
      return token;
    } catch (error) {
      if (!isSystemError(error) || error.code !== 'EEXIST') throw error;
    }
    let held: string;
    let mtimeMs: number;
    try {
      held = await readFile(lockPath, 'utf8');
      mtimeMs = (await stat(lockPath)).mtimeMs;
    } catch (error) {
      if (isSystemError(error) && error.code === 'ENOENT') continue; // released meanwhile: try again now
      throw error;
    }
    if (isStaleLock(held, Date.now() - mtimeMs)) {
      await breakLock(lockPath, held, mtimeMs);
      continue;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 20);
  }
}

function isStaleLock(held: string, ageMs: number): boolean {
  if (ageMs > LOCK_STALE_MS) return true;
  const pid = Number(held.split('\n')[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return ageMs > EMPTY_LOCK_STALE_MS; // creator killed before writing it
  // This process never waits for its own lock (its saves queue first): one with our pid
  // was left by a crashed process that had the same pid.
  return pid === process.pid || !isAlive(pid);
}

/**
 * Removes a stale lock without removing a fresh one taken meanwhile by another process: it
 * is moved aside first, then checked, and put back if it was not the stale one.
 */
async function breakLock(lockPath: string, held: string, mtimeMs: number): Promise<void> {
  const aside = join(dirname(lockPath), `${basename(lockPath)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    await rename(lockPath, aside);
  } catch {
    return; // another process broke it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  const movedInfo = await stat(aside).catch(() => undefined);
  if (moved !== held || movedInfo?.mtimeMs !== mtimeMs) await link(aside, lockPath).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function releaseLockFile(lockPath: string, token: string): Promise<void> {
  const held = await readFile(lockPath, 'utf8').catch(() => undefined);
  if (held === token) await unlink(lockPath).catch(() => undefined);
}

/**
 * Writes `data` to `path` so that a crash at any moment leaves either the previous file or
 * the new one, never a mix, with every guarantee of this module (mode, symlinks, order of
 * concurrent writes, cleanup, `CHECKPOINT_IO` errors). Returns `false` when a write called
 * later already replaced the file (this one's data was discarded).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<boolean> {
  const write = startAtomicWrite(path);
  try {
    await (await write.open()).writeFile(data);
  } catch (error) {
    await write.abort();
    throw checkpointIoError(error, 'save', path);
  }
  return write.commit();
}
