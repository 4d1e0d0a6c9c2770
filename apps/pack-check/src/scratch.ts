// The packages as npm users get them: `pnpm pack` (which rewrites `workspace:^` to real
// ranges and keeps only `files`), then a project outside the workspace that installs the
// tarballs with npm, so nothing can resolve through the monorepo's node_modules.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, installedVersion, pinnedPnpmVersion, type PublishedPackage } from './workspace.js';

const run = promisify(execFile);

/** Runs a command; on failure the error carries its whole output, not just its status. */
export async function exec(
  file: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(file, args, {
      cwd: options.cwd,
      timeout: options.timeoutMs,
      env: options.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'utf8',
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: unknown; signal?: unknown; killed?: boolean };
    const why = e.killed === true ? `killed after ${options.timeoutMs} ms` : `exit ${String(e.code)}${e.signal ? ` (${String(e.signal)})` : ''}`;
    throw new Error(`${file} ${args.join(' ')} (in ${options.cwd}): ${why}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim(), { cause: error });
  }
}

/**
 * How to call the pinned pnpm: the one running us when `pnpm test` started this process
 * (`npm_execpath`), else `npx -y pnpm@<pinned>` as the README's commands do.
 */
function pnpmCommand(): [string, string[]] {
  const execPath = process.env['npm_execpath'];
  if (execPath !== undefined && /pnpm/.test(execPath)) return [process.execPath, [execPath]];
  return ['npx', ['-y', `pnpm@${pinnedPnpmVersion()}`]];
}

/** Packs every package into `destination`; returns each package's tarball path, by name. */
export async function packAll(packages: readonly PublishedPackage[], destination: string): Promise<Map<string, string>> {
  await mkdir(destination, { recursive: true });
  const [file, prefix] = pnpmCommand();
  // One at a time: the machine's cores are shared, and a pack takes about a second.
  for (const pkg of packages) {
    await exec(file, [...prefix, 'pack', '--pack-destination', destination], { cwd: join(REPO_ROOT, pkg.dir), timeoutMs: 120_000 });
  }
  const tarballs = await readdir(destination);
  const out = new Map<string, string>();
  for (const pkg of packages) {
    // pnpm names the file `<scope>-<name>-<version>.tgz`.
    const expected = `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.manifest.version}.tgz`;
    if (!tarballs.includes(expected)) throw new Error(`pnpm pack left no ${expected} in ${destination} (found: ${tarballs.join(', ')}).`);
    out.set(pkg.name, join(destination, expected));
  }
  return out;
}

/**
 * What a scratch project installs beside the tarballs, at the versions the repository
 * installs: the compiler and bundler the check drives, the peer dependencies the READMEs
 * tell users to add, and the packages the snippets import (Dawn's `webgpu`, vitest).
 */
export function scratchDependencies(): Record<string, string> {
  const at = (name: string, fromDir?: string): [string, string] => [name, installedVersion(name, fromDir)];
  return Object.fromEntries([
    at('typescript'),
    at('@types/node'),
    at('esbuild', 'apps/pack-check'),
    at('vitest'),
    at('@tensorflow/tfjs', 'packages/backend-tfjs'),
    at('@tensorflow/tfjs-backend-wasm', 'packages/backend-tfjs'),
    at('@tensorflow/tfjs-backend-webgpu', 'packages/backend-tfjs'),
    at('webgpu', 'packages/backend-webgpu'),
  ]);
}

/** A project outside the workspace with every tarball installed. */
export interface ScratchProject {
  /** The temporary folder holding `tarballs/` and `project/`; delete it when done. */
  root: string;
  /** The project folder (its own `package.json`, `node_modules`). */
  dir: string;
  /** Each package's tarball, by name. */
  tarballs: Map<string, string>;
  /** Wall time of the pack and of the npm install, ms. */
  packMs: number;
  installMs: number;
}

/**
 * Packs `packages` and installs them with npm into a fresh project under the system's temp
 * folder. `--ignore-scripts`: onnxruntime-node's postinstall downloads CUDA parts (and
 * fails offline); its CPU binaries ship in the package. `overrides` pin every `@rectify/*`
 * dependency of a tarball to the tarball itself, so nothing comes from the registry under
 * our names.
 */
export async function createScratchProject(packages: readonly PublishedPackage[]): Promise<ScratchProject> {
  const root = await mkdtemp(join(tmpdir(), 'rectify-pack-check-'));
  const dir = join(root, 'project');
  await mkdir(dir);
  let t = performance.now();
  const tarballs = await packAll(packages, join(root, 'tarballs'));
  const packMs = performance.now() - t;
  const ours = Object.fromEntries([...tarballs].map(([name, path]) => [name, `file:${path}`]));
  const manifest = {
    name: 'rectify-pack-check-scratch',
    private: true,
    type: 'module',
    dependencies: { ...ours, ...scratchDependencies() },
    overrides: Object.fromEntries([...tarballs.keys()].map((name) => [name, `$${name}`])),
  };
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  t = performance.now();
  await exec('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    timeoutMs: 600_000,
    // The workspace's pnpm settings (npm_config_* from `pnpm test`) are not a user's.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  });
  return { root, dir, tarballs, packMs, installMs: performance.now() - t };
}

/**
 * Whether npm's registry answers within a few seconds: where it does not (an offline
 * machine) the check skips with that reason, except on CI.
 */
export async function registryUnreachableReason(): Promise<string | undefined> {
  try {
    await exec('npm', ['ping', '--loglevel=error'], { cwd: tmpdir(), timeoutMs: 20_000 });
    return undefined;
  } catch (error) {
    return `npm's registry cannot be reached (npm ping: ${(error as Error).message.split('\n').slice(0, 3).join(' ')})`;
  }
}
