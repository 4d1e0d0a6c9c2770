import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startAtomicWrite, writeFileAtomic } from '../../src/node/atomic-file.js';
import { TMPFS_UNAVAILABLE, mountTmpfs, type Tmpfs } from './tmpfs.js';

const created: string[] = [];
const fresh = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'rectify-atomic-'));
  created.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; cause?: { code?: string }; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; cause?: { code?: string }; message: string };
  }
  throw new Error('expected a rejection');
}

/** A pid that no process has any more. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid!;
}

describe('writeFileAtomic: mode, owner, symlinks', () => {
  it.each([['0600', 0o600], ['0640', 0o640], ['0666', 0o666]])('keeps an existing file mode %s (not the umask)', async (_octal, mode) => {
    const path = join(fresh(), 'ckpt');
    writeFileSync(path, 'old');
    chmodSync(path, mode);
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o7777).toBe(mode);
  });

  it('creates a new file as any new file (0666 less the umask)', async () => {
    const dir = fresh();
    writeFileSync(join(dir, 'plain'), '');
    await writeFileAtomic(join(dir, 'ckpt'), 'new');
    expect(statSync(join(dir, 'ckpt')).mode & 0o7777).toBe(statSync(join(dir, 'plain')).mode & 0o7777);
  });

  it.skipIf(process.getuid?.() !== 0)('keeps the owner when run as root', async () => {
    const path = join(fresh(), 'ckpt');
    writeFileSync(path, 'old');
    chownSync(path, 4321, 4322);
    await writeFileAtomic(path, 'new');
    expect([statSync(path).uid, statSync(path).gid]).toEqual([4321, 4322]);
  });

  it('writes through a chain of relative symlinks to the final target, keeping the links', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'ckpt'), 'old');
    chmodSync(join(dir, 'real', 'ckpt'), 0o600);
    symlinkSync('real/ckpt', join(dir, 'hop'));
    symlinkSync('hop', join(dir, 'latest'));
    await writeFileAtomic(join(dir, 'latest'), 'new');
    expect(lstatSync(join(dir, 'latest')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, 'hop')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real', 'ckpt'), 'utf8')).toBe('new');
    expect(statSync(join(dir, 'real', 'ckpt')).mode & 0o7777).toBe(0o600);
    // The temporary file lived beside the target, not beside the link.
    expect(readdirSync(join(dir, 'real')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('creates the target of a dangling symlink', async () => {
    const dir = fresh();
    symlinkSync('target', join(dir, 'link'));
    await writeFileAtomic(join(dir, 'link'), 'new');
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('new');
  });
});

describe('writeFileAtomic: order of overlapping writes (one process)', () => {
  it('discards an older write that commits after a newer one', async () => {
    const path = join(fresh(), 'ckpt');
    const older = startAtomicWrite(path);
    const newer = startAtomicWrite(path);
    await (await older.open()).writeFile('older');
    await (await newer.open()).writeFile('newer');
    expect(await newer.commit()).toBe(true);
    expect(await older.commit()).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('newer');
    expect(readdirSync(join(path, '..')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('lets a newer write replace an older one that committed first', async () => {
    const path = join(fresh(), 'ckpt');
    const older = startAtomicWrite(path);
    const newer = startAtomicWrite(path);
    await (await older.open()).writeFile('older');
    await (await newer.open()).writeFile('newer');
    expect(await older.commit()).toBe(true);
    expect(await newer.commit()).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('newer');
  });

  it('ends with the last call when a big early write races small later ones', async () => {
    const path = join(fresh(), 'ckpt');
    const big = new Uint8Array(32 << 20).fill(1);
    const results = await Promise.all([writeFileAtomic(path, big), writeFileAtomic(path, 'second'), writeFileAtomic(path, 'third')]);
    expect(readFileSync(path, 'utf8')).toBe('third');
    expect(results[2]).toBe(true);
  });

  it('ignores a commit record from an earlier boot (a stamp above the clock)', async () => {
    const dir = fresh();
    const path = join(dir, 'ckpt');
    await writeFileAtomic(path, 'old');
    const record = JSON.stringify({ time: (2n ** 62n).toString(), pid: 1, sequence: 0, id: randomUUID() });
    writeFileSync(join(dir, '.ckpt.commit'), record);
    expect(await writeFileAtomic(path, 'new')).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('new');
  });
});

/** A second process that starts an atomic write, writes, and commits when told to. */
class ChildWriter {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;

  constructor(path: string, data: string, waitBeforeCommit: boolean) {
    const module = new URL('../../dist/node/atomic-file.js', import.meta.url).href;
    const script = `
      import { startAtomicWrite } from ${JSON.stringify(module)};
      import { createInterface } from 'node:readline';
      const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
      const write = startAtomicWrite(${JSON.stringify(path)});
      console.log('started');
      await (await write.open()).writeFile(${JSON.stringify(data)});
      console.log('written');
      if (${waitBeforeCommit}) await lines.next();
      console.log('committed ' + (await write.commit()));
      process.exit(0);
    `;
    this.#child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    this.#child.stderr.pipe(process.stderr);
    this.#lines = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
  }

  async next(): Promise<string> {
    const { value, done } = await this.#lines.next();
    if (done === true) throw new Error('the child writer exited early');
    return value;
  }

  commit(): void {
    this.#child.stdin.write('go\n');
  }
}

describe('writeFileAtomic: order of overlapping writes (two processes)', () => {
  it('a later write in this process wins over an earlier one of another process that commits last', async () => {
    const path = join(fresh(), 'ckpt');
    const child = new ChildWriter(path, 'child', true);
    expect(await child.next()).toBe('started');
    expect(await child.next()).toBe('written');
    expect(await writeFileAtomic(path, 'parent')).toBe(true);
    child.commit();
    expect(await child.next()).toBe('committed false');
    expect(readFileSync(path, 'utf8')).toBe('parent');
  });

  it('a later write of another process wins over an earlier one here that commits last', async () => {
    const path = join(fresh(), 'ckpt');
    const mine = startAtomicWrite(path);
    await (await mine.open()).writeFile('parent');
    const child = new ChildWriter(path, 'child', false);
    expect(await child.next()).toBe('started');
    expect(await child.next()).toBe('written');
    expect(await child.next()).toBe('committed true');
    expect(await mine.commit()).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('child');
  });
});

describe('writeFileAtomic: leftovers of crashed writers', () => {
  it('deletes temporary files of dead processes and stray ones of this pid, keeps live ones and other files', async () => {
    const dir = fresh();
    const path = join(dir, 'ckpt');
    writeFileSync(path, 'old');
    const dead = join(dir, `.ckpt.${deadPid()}.${randomUUID()}.tmp`);
    const legacy = join(dir, `ckpt.${deadPid()}.${randomUUID()}.tmp`); // the 0.1 release's naming
    const deadLockAside = join(dir, `.ckpt.lock.${deadPid()}.${randomUUID()}.tmp`);
    const stray = join(dir, `.ckpt.${process.pid}.${randomUUID()}.tmp`); // a crashed process with our pid
    const live = join(dir, `.ckpt.${process.ppid}.${randomUUID()}.tmp`); // a save in flight elsewhere
    const otherFile = join(dir, `.other.${deadPid()}.${randomUUID()}.tmp`);
    for (const file of [dead, legacy, deadLockAside, stray, live, otherFile]) writeFileSync(file, 'x');
    await writeFileAtomic(path, 'new');
    expect([dead, legacy, deadLockAside, stray, live, otherFile].map((f) => existsSync(f))).toEqual([false, false, false, false, true, true]);
    expect(readFileSync(path, 'utf8')).toBe('new');
  });

  const lockCases: [string, () => string, (lock: string) => void][] = [
    ['of a dead process', () => `${deadPid()}\n${randomUUID()}\n`, () => undefined],
    ['left by a crashed process with our pid', () => `${process.pid}\n${randomUUID()}\n`, () => undefined],
    ['left empty (creator killed before writing it)', () => '', (lock) => utimesSync(lock, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000))],
    ['older than a minute, of a live process', () => `${process.ppid}\n${randomUUID()}\n`, (lock) => utimesSync(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000))],
  ];
  it.each(lockCases)('breaks a stale lock %s', async (_what, content, age) => {
    const dir = fresh();
    const lock = join(dir, '.ckpt.lock');
    writeFileSync(lock, content());
    age(lock);
    const started = Date.now();
    expect(await writeFileAtomic(join(dir, 'ckpt'), 'new')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(readFileSync(join(dir, 'ckpt'), 'utf8')).toBe('new');
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('waits while a live process holds the lock, then commits', async () => {
    const dir = fresh();
    const lock = join(dir, '.ckpt.lock');
    writeFileSync(lock, `${process.ppid}\n${randomUUID()}\n`);
    let done = false;
    const writing = writeFileAtomic(join(dir, 'ckpt'), 'new').then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(done).toBe(false);
    expect(existsSync(join(dir, 'ckpt'))).toBe(false);
    writeFileSync(lock, ''); // still held (fresh, unreadable) …
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done).toBe(false);
    spawnSync('rm', [lock]); // … until its holder releases it
    await writing;
    expect(readFileSync(join(dir, 'ckpt'), 'utf8')).toBe('new');
  });
});

describe('writeFileAtomic: failures are CHECKPOINT_IO and leave the previous file', () => {
  it('a missing parent directory', async () => {
    const dir = fresh();
    const error = await rejection(writeFileAtomic(join(dir, 'no', 'such', 'ckpt'), 'new'));
    expect(error).toMatchObject({ name: 'RectifyError', code: 'CHECKPOINT_IO', cause: { code: 'ENOENT' } });
    expect(error.message).toMatch(/directory does not exist/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a directory in place of the file', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'ckpt'));
    writeFileSync(join(dir, 'ckpt', 'inside'), 'keep');
    const error = await rejection(writeFileAtomic(join(dir, 'ckpt'), 'new'));
    expect(error).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'EISDIR' } });
    expect(readFileSync(join(dir, 'ckpt', 'inside'), 'utf8')).toBe('keep');
    expect(readdirSync(dir)).toEqual(['ckpt']);
  });

  it('a symlink loop', async () => {
    const dir = fresh();
    symlinkSync('b', join(dir, 'a'));
    symlinkSync('a', join(dir, 'b'));
    expect(await rejection(writeFileAtomic(join(dir, 'a'), 'new'))).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'ELOOP' } });
  });

  describe.skipIf(TMPFS_UNAVAILABLE !== undefined)(`on a real small tmpfs${TMPFS_UNAVAILABLE === undefined ? '' : ` (skipped: ${TMPFS_UNAVAILABLE})`}`, () => {
    let fs: Tmpfs | undefined;
    afterEach(() => {
      fs?.unmount();
      fs = undefined;
    });

    it('a full disk (ENOSPC): the old file stays, no temporary file is left, space is given back', async () => {
      fs = mountTmpfs(1 << 20);
      const path = join(fs.dir, 'ckpt');
      await writeFileAtomic(path, 'old');
      const error = await rejection(writeFileAtomic(path, new Uint8Array(2 << 20).fill(7)));
      expect(error).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'ENOSPC' } });
      expect(error.message).toMatch(/disk is full/);
      expect(readFileSync(path, 'utf8')).toBe('old');
      expect(readdirSync(fs.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await writeFileAtomic(path, new Uint8Array(512 << 10).fill(8)); // half the disk: fits only if the failed file is gone
      expect(statSync(path).size).toBe(512 << 10);
    });

    it('a read-only file system (EROFS): the old file stays', async () => {
      fs = mountTmpfs(1 << 20);
      const path = join(fs.dir, 'ckpt');
      await writeFileAtomic(path, 'old');
      fs.readOnly();
      const error = await rejection(writeFileAtomic(path, 'new'));
      expect(error).toMatchObject({ code: 'CHECKPOINT_IO', cause: { code: 'EROFS' } });
      expect(error.message).toMatch(/read-only/);
      expect(readFileSync(path, 'utf8')).toBe('old');
    });
  });
});
