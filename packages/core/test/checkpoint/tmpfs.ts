/**
 * Small real file systems for the disk-full and read-only tests: a size-limited tmpfs
 * mounted in a temporary directory. Mounting needs root on Linux; elsewhere the tests that
 * need one are skipped with {@link TMPFS_UNAVAILABLE} as the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A mounted tmpfs. */
export interface Tmpfs {
  readonly dir: string;
  /** Makes it read-only (`mount -o remount,ro`). */
  readOnly(): void;
  /** Unmounts it and removes its mount point. */
  unmount(): void;
}

function mount(dir: string, sizeBytes: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** Mounts a tmpfs of `sizeBytes` bytes in a new temporary directory. */
export function mountTmpfs(sizeBytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'rectify-tmpfs-'));
  mount(dir, sizeBytes);
  return {
    dir,
    readOnly: () => execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'pipe' }),
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Why a tmpfs cannot be mounted here (`undefined` when it can): tried once, at import. */
export const TMPFS_UNAVAILABLE: string | undefined = (() => {
  if (process.platform !== 'linux') return `mounting a tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  try {
    mountTmpfs(1 << 20).unmount();
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
})();
