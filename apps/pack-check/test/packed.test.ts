// The packages as npm users get them (issue 16): packed, installed with npm into a project
// outside the workspace, then every README snippet compiled (strict, NodeNext and bundler
// resolution), run in Node, bundled for Node and, where meant for browsers, for the browser;
// plus each tarball's metadata and what `require()` of each entry does.
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { everyBackendRequired } from '@rectify/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNIPPETS, VITEST_ONLY_ENTRIES } from '../src/config.js';
import { brokenReadmeLinks, exportEntries, manifestProblems } from '../src/manifest-checks.js';
import { createScratchProject, exec, registryUnreachableReason, type ScratchProject } from '../src/scratch.js';
import { bundle, meantForBrowser, placeSnippets, runModule, runWithNode, typecheck, TSC_MODES, type PlacedSnippet, type TscMode } from '../src/snippet-check.js';
import { extractSnippets } from '../src/snippets.js';
import { publishedPackages, readJson, REPO_ROOT, type PackageJson } from '../src/workspace.js';

const packages = publishedPackages();
const readmes = ['README.md', ...packages.map((p) => `${p.dir}/README.md`)];
const snippets = readmes.flatMap((readme) => extractSnippets(readme, readFileSync(join(REPO_ROOT, readme), 'utf8')));
/** A snippet's run: its own Node process, a tfjs import and a few steps take seconds. */
const RUN_TIMEOUT_MS = 120_000;

// Registry reachable: checked once, before any test is registered. Offline, the check skips
// with that reason; on CI (RECTIFY_REQUIRE_ALL_BACKENDS=1) it fails instead.
const unreachable = await registryUnreachableReason();
const skipReason = unreachable !== undefined && !everyBackendRequired() ? unreachable : undefined;
if (skipReason !== undefined) console.warn(`[pack-check] skipped: ${skipReason}`);
const suite = skipReason === undefined ? describe : describe.skip;

describe('the check configuration', () => {
  it('names only snippets the READMEs have', () => {
    const keys = new Set(snippets.map((s) => s.key));
    expect(Object.keys(SNIPPETS).filter((k) => !keys.has(k))).toEqual([]);
  });
  it('finds the snippets of every package README', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(packages.length);
    for (const pkg of packages) expect(snippets.some((s) => s.readme === `${pkg.dir}/README.md`), pkg.name).toBe(true);
  });
});

suite(`packed tarballs in a project outside the workspace${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
  let scratch: ScratchProject;
  let placed: PlacedSnippet[];
  const diagnostics = new Map<TscMode, Promise<Map<string, string[]>>>();

  beforeAll(async () => {
    if (unreachable !== undefined) throw new Error(`${unreachable}: on CI (RECTIFY_REQUIRE_ALL_BACKENDS=1) this check must run.`);
    scratch = await createScratchProject(packages);
    placed = await placeSnippets(scratch.dir, snippets, SNIPPETS);
    console.log(`[pack-check] pack ${(scratch.packMs / 1000).toFixed(1)} s, npm install ${(scratch.installMs / 1000).toFixed(1)} s (${scratch.root})`);
  }, 900_000);

  afterAll(async () => {
    if (scratch !== undefined) await rm(scratch.root, { recursive: true, force: true });
  }, 120_000);

  /** The installed copy of a package: exactly the tarball's files. */
  const installed = (name: string): string => join(scratch.dir, 'node_modules', name);
  /** Both tsc runs, started on first use and shared by every snippet's test. */
  const diagnosticsOf = (mode: TscMode): Promise<Map<string, string[]>> => {
    let d = diagnostics.get(mode);
    if (d === undefined) diagnostics.set(mode, (d = typecheck(scratch.dir, placed, mode)));
    return d;
  };
  const placedFor = (key: string): PlacedSnippet => {
    const p = placed.find((x) => x.snippet.key === key);
    if (p === undefined) throw new Error(`no snippet ${key}`);
    return p;
  };

  describe.each(packages)('$name tarball', (pkg) => {
    it('has its metadata, LICENSE, README, and every file its exports name', () => {
      const manifest = readJson<PackageJson>(join(installed(pkg.name), 'package.json'));
      expect(manifest.version).toBe(pkg.manifest.version);
      expect(manifestProblems(installed(pkg.name), manifest)).toEqual([]);
    });
    it('has a README whose relative links lead to files of the package', () => {
      expect(brokenReadmeLinks(installed(pkg.name))).toEqual([]);
    });
    it('resolves its @rectify dependencies to the tarballs, not to the registry', () => {
      const manifest = readJson<PackageJson>(join(installed(pkg.name), 'package.json'));
      for (const dep of Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@rectify/'))) {
        const nested = join(installed(pkg.name), 'node_modules', dep);
        expect(() => readFileSync(join(nested, 'package.json')), `${pkg.name} has its own copy of ${dep}`).toThrow();
      }
    });
  });

  it('ships the numerical contract: @rectify/conformance/SPEC.md is ../shared/SPEC.md byte for byte', () => {
    const shipped = readFileSync(join(installed('@rectify/conformance'), 'SPEC.md'));
    expect(shipped.equals(readFileSync(join(REPO_ROOT, '../shared/SPEC.md')))).toBe(true);
  });

  it('every entry point is ESM only: import() loads it, require() loads the same module where Node can, else ERR_REQUIRE_ESM', async () => {
    const specifiers = packages.flatMap((pkg) =>
      exportEntries(pkg.manifest)
        .map(([subpath]) => subpath)
        .filter((s) => s !== './package.json' && !s.includes('*'))
        .map((s) => `${pkg.name}${s.slice(1)}`)
        .filter((s) => !VITEST_ONLY_ENTRIES.has(s)),
    );
    const probe = (kind: 'require' | 'import'): string =>
      [
        `const specifiers = ${JSON.stringify(specifiers)};`,
        'const out = {};',
        'for (const s of specifiers) {',
        `  try { const m = ${kind === 'require' ? 'require(s)' : 'await import(s)'}; out[s] = Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort(); }`,
        '  catch (e) { out[s] = { code: e.code, message: String(e.message).split("\\n")[0] }; }',
        '}',
        'console.log(JSON.stringify(out));',
        // Worker threads or sessions an import started must not keep the probe alive.
        'process.exit(0);',
      ].join('\n');
    await writeFile(join(scratch.dir, 'probe.cjs'), probe('require'));
    await writeFile(join(scratch.dir, 'probe.mjs'), probe('import'));
    const parse = async (file: string): Promise<Record<string, unknown>> =>
      JSON.parse((await exec(process.execPath, [file], { cwd: scratch.dir, timeoutMs: RUN_TIMEOUT_MS })).stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    const imported = await parse('probe.mjs');
    const required = await parse('probe.cjs');
    const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;
    for (const s of specifiers) {
      expect(Array.isArray(imported[s]), `import('${s}'): ${JSON.stringify(imported[s])}`).toBe(true);
      if (canRequireEsm) expect(required[s], `require('${s}')`).toEqual(imported[s]);
      else expect(required[s], `require('${s}')`).toMatchObject({ code: 'ERR_REQUIRE_ESM' });
    }
  }, 300_000);

  describe.each(snippets.map((s) => ({ key: s.key, s })))('$key', ({ key, s }) => {
    const config = SNIPPETS[key] ?? {};
    it.each(Object.keys(TSC_MODES) as TscMode[])('compiles with tsc --strict, --module %s', async (mode) => {
      const errors = (await diagnosticsOf(mode)).get(placedFor(key).file);
      expect(errors, `${s.readme}:${s.line}`).toEqual([]);
    }, 600_000);

    it.skipIf(config.noRun !== undefined)(`runs in Node${config.noRun === undefined ? '' : ` (not run: ${config.noRun})`}`, async () => {
      await runWithNode(scratch.dir, placedFor(key), RUN_TIMEOUT_MS);
    }, RUN_TIMEOUT_MS + 10_000);

    it(`bundles for Node with esbuild${config.noRun === undefined ? ', and the bundle runs' : ''}`, async () => {
      const out = await bundle(scratch.dir, placedFor(key), 'node');
      if (config.noRun === undefined) await runModule(scratch.dir, out, RUN_TIMEOUT_MS);
    }, RUN_TIMEOUT_MS + 10_000);

    // Decided by the snippet's imports (and its config), known before the project exists.
    const browser = meantForBrowser(s, config);
    it.skipIf(!browser)(`bundles for the browser with esbuild${browser ? '' : ` (Node only: ${config.noBrowser ?? 'imports a Node-only module'})`}`, async () => {
      await bundle(scratch.dir, placedFor(key), 'browser');
    }, 60_000);
  });
});
