// What an installed tarball must hold for npm users: metadata, every file its `exports`
// name, and README links that lead somewhere inside the package.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import type { PackageJson } from './workspace.js';

/** Every `exports` subpath with its condition tree, e.g. `['.', { types, default }]`. */
export function exportEntries(manifest: PackageJson): [string, unknown][] {
  return Object.entries(manifest.exports ?? {});
}

/** The file targets of one `exports` value, with the condition path that leads to each. */
export function exportTargets(value: unknown, path: string[] = []): { conditions: string[]; target: string }[] {
  if (typeof value === 'string') return [{ conditions: path, target: value }];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([condition, inner]) => exportTargets(inner, [...path, condition]));
}

/**
 * The problems of an installed package's manifest and files, as sentences (empty: none).
 * `dir` is the package's folder inside a scratch project's node_modules, i.e. exactly what
 * the tarball held.
 */
export function manifestProblems(dir: string, manifest: PackageJson): string[] {
  const problems: string[] = [];
  const ranges = { ...manifest.dependencies, ...manifest.peerDependencies };
  for (const [name, range] of Object.entries(ranges)) {
    if (range.startsWith('workspace:')) problems.push(`dependency ${name} is still "${range}" in the tarball`);
  }
  if (manifest.license !== 'MIT') problems.push(`license is ${String(manifest.license)}, not MIT`);
  if (!existsSync(join(dir, 'LICENSE'))) problems.push('no LICENSE file in the tarball');
  if (!existsSync(join(dir, 'README.md'))) problems.push('no README.md in the tarball');
  if (manifest.type !== 'module') problems.push('"type" is not "module"');
  if (manifest.engines?.['node'] === undefined) problems.push('no engines.node');
  if (manifest.sideEffects === undefined) problems.push('no "sideEffects" (false, or the files that have them)');
  for (const file of Array.isArray(manifest.sideEffects) ? manifest.sideEffects : []) {
    if (!existsSync(join(dir, file))) problems.push(`sideEffects names ${file}, which is not in the tarball`);
  }
  for (const [subpath, value] of exportEntries(manifest)) {
    const targets = exportTargets(value);
    for (const { conditions, target } of targets) {
      // A pattern (`./goldens/*`) must at least have its folder.
      const file = target.includes('*') ? dirname(target) : target;
      if (!existsSync(join(dir, file))) problems.push(`exports["${subpath}"]${conditions.map((c) => `.${c}`).join('')} is ${target}, not in the tarball`);
    }
    if (typeof value !== 'object' || value === null) continue;
    // ESM only, said the way Node and bundlers understand: `types` first (TypeScript takes
    // the first condition that matches), then `default` as the last condition, so that
    // `require()` loads the ES module where Node can (20.19+, 22.12+) and fails with
    // ERR_REQUIRE_ESM where it cannot, instead of "No exports main defined".
    for (const conditions of conditionObjects(value)) {
      const keys = Object.keys(conditions);
      const typesAt = keys.indexOf('types');
      const matchedBefore = keys.slice(0, typesAt).filter((k) => TS_CONDITIONS.has(k));
      if (typesAt > 0 && matchedBefore.length > 0) problems.push(`exports["${subpath}"]: "types" comes after ${matchedBefore.join(', ')}, which TypeScript matches first`);
      if (keys.at(-1) !== 'default') problems.push(`exports["${subpath}"]: the last condition is "${String(keys.at(-1))}", not "default" (${keys.join(', ')})`);
      if (keys.includes('require')) problems.push(`exports["${subpath}"]: a "require" condition in an ESM-only package`);
    }
  }
  problems.push(...unresolvedSourceMaps(dir));
  return problems;
}

/**
 * Source maps (`.js.map`, `.d.ts.map`) whose `sources` are not in the tarball: a debugger
 * or an editor's "go to definition" would point at files the user does not have.
 */
function unresolvedSourceMaps(dir: string): string[] {
  const dist = join(dir, 'dist');
  if (!existsSync(dist)) return [];
  const missing = new Set<string>();
  for (const entry of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.map')) continue;
    const map = JSON.parse(readFileSync(join(dist, entry), 'utf8')) as { sources?: unknown };
    for (const source of Array.isArray(map.sources) ? map.sources : []) {
      if (typeof source !== 'string') continue;
      const file = resolve(dirname(join(dist, entry)), source);
      if (!existsSync(file)) missing.add(relative(dir, file));
    }
  }
  const listed = [...missing].sort();
  return listed.length === 0 ? [] : [`source maps point at ${listed.length} files not in the tarball (${listed.slice(0, 3).join(', ')}${listed.length > 3 ? ', …' : ''})`];
}

/** The condition objects of an `exports` value that lead to files (not the nested ones' parents only). */
function conditionObjects(value: object): Record<string, unknown>[] {
  const inner = Object.values(value).filter((v): v is object => typeof v === 'object' && v !== null);
  return [value as Record<string, unknown>, ...inner.flatMap(conditionObjects)];
}

/** Conditions TypeScript matches without `customConditions`. */
const TS_CONDITIONS: ReadonlySet<string> = new Set(['import', 'require', 'node', 'default', 'module-sync']);

const LINK = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

/**
 * The relative links of a README (Markdown `[text](target)`) whose target is not in the
 * package: on npm they lead nowhere. Absolute URLs and `#anchors` are left alone.
 */
export function brokenReadmeLinks(dir: string, readme = 'README.md'): string[] {
  const text = readFileSync(join(dir, readme), 'utf8');
  const broken: string[] = [];
  for (const match of text.matchAll(LINK)) {
    const target = (match[1] ?? '').split('#')[0] ?? '';
    if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const file = normalize(join(dir, dirname(readme), decodeURI(target)));
    if (!file.startsWith(dir) || !existsSync(file) || !(statSync(file).isFile() || statSync(file).isDirectory())) broken.push(match[1] ?? '');
  }
  return broken;
}
