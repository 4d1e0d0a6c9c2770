// Where the publishable packages are and which tool versions the repository builds with: read
// from the workspace itself, so a new package or a version bump needs no edit here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is `apps/pack-check/{src,dist}/workspace.*`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The fields of a `package.json` this check reads. */
export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  type?: string;
  sideEffects?: boolean | string[];
  engines?: Record<string, string>;
  repository?: unknown;
  files?: string[];
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  packageManager?: string;
}

/** A package of the workspace that is published to npm. */
export interface PublishedPackage {
  /** `@rectify/core`, … */
  name: string;
  /** Its folder relative to the repository root, `packages/core`. */
  dir: string;
  manifest: PackageJson;
}

/** Reads and parses a JSON file. */
export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Every package under `packages/` that is not `private`, sorted by name. */
export function publishedPackages(): PublishedPackage[] {
  const out: PublishedPackage[] = [];
  for (const entry of readdirSync(join(REPO_ROOT, 'packages'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = `packages/${entry.name}`;
    const manifest = readJson<PackageJson>(join(REPO_ROOT, dir, 'package.json'));
    if (manifest.private !== true) out.push({ name: manifest.name, dir, manifest });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The pnpm version the repository pins (`packageManager` of the root `package.json`). */
export function pinnedPnpmVersion(): string {
  const spec = readJson<PackageJson>(join(REPO_ROOT, 'package.json')).packageManager ?? '';
  const version = spec.split('@')[1];
  if (version === undefined) throw new Error(`The root package.json has no packageManager "pnpm@x.y.z" (got "${spec}").`);
  return version;
}

/**
 * The version of `name` installed for the workspace package at `fromDir` (relative to the
 * root): what "the repository's version" of a tool or peer dependency means.
 */
export function installedVersion(name: string, fromDir = '.'): string {
  // Node's own lookup (node_modules of each folder up to the root), without `require.resolve`:
  // a package whose `exports` hide its package.json must still be found.
  for (let dir = join(REPO_ROOT, fromDir); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return readJson<PackageJson>(manifest).version;
    if (dir === dirname(dir)) throw new Error(`${name} is not installed for ${fromDir}: run pnpm install.`);
  }
}
