// The README snippets inside a scratch project: one file each (the check's prelude, then
// the snippet), compiled by the project's own tsc under two module settings, transpiled and
// run by Node, and bundled by esbuild for Node and, where every import has a browser entry,
// for the browser.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, transform } from 'esbuild';
import { BROWSER_SPECIFIERS, NATIVE_PACKAGES, type SnippetConfig } from './config.js';
import { exec } from './scratch.js';
import { snippetSlug, type Snippet } from './snippets.js';

/** A snippet as placed in the scratch project. */
export interface PlacedSnippet {
  snippet: Snippet;
  config: SnippetConfig;
  slug: string;
  /** `snippets/<slug>.ts`, relative to the project. */
  file: string;
  /** Lines of prelude before the snippet's first line in that file. */
  preludeLines: number;
}

/** Whether a snippet is bundled for the browser: every import has a browser entry and its config does not rule it out. */
export function meantForBrowser(snippet: Snippet, config: SnippetConfig): boolean {
  return config.noBrowser === undefined && snippet.imports.every((s) => BROWSER_SPECIFIERS.has(s));
}

/** The two settings a user's tsconfig has for an ESM package: Node's and a bundler's. */
export const TSC_MODES = {
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
} as const;

/** One of {@link TSC_MODES}. */
export type TscMode = keyof typeof TSC_MODES;

/** Writes each snippet, prelude first, into `<project>/snippets/`. */
export async function placeSnippets(
  projectDir: string,
  snippets: readonly Snippet[],
  configs: Readonly<Record<string, SnippetConfig>>,
): Promise<PlacedSnippet[]> {
  await mkdir(join(projectDir, 'snippets'), { recursive: true });
  const placed: PlacedSnippet[] = [];
  for (const snippet of snippets) {
    const config = configs[snippet.key] ?? {};
    const prelude = config.prelude === undefined ? '' : `${config.prelude}\n`;
    const slug = snippetSlug(snippet);
    const file = `snippets/${slug}.ts`;
    // `export {}`: a snippet without imports is still a module (top-level await, own scope).
    await writeFile(join(projectDir, file), `${prelude}${snippet.code}export {};\n`);
    placed.push({
      snippet,
      config,
      slug,
      file,
      preludeLines: prelude === '' ? 0 : prelude.split('\n').length - 1,
    });
  }
  return placed;
}

/**
 * Runs the project's tsc once over every snippet with `--strict` and the given module
 * setting; returns the diagnostics per snippet file (lines counted from the snippet's first
 * line, prelude lines as negative or zero). No `skipLibCheck`: Rectify's declaration files
 * are checked as a strict project without it checks them.
 */
export async function typecheck(projectDir: string, placed: readonly PlacedSnippet[], mode: TscMode): Promise<Map<string, string[]>> {
  const tsconfig = `tsconfig.${mode}.json`;
  await writeFile(
    join(projectDir, tsconfig),
    JSON.stringify(
      {
        compilerOptions: {
          ...TSC_MODES[mode],
          target: 'es2022',
          // DOM for the browser snippets (WebGPU's types come with @rectify/backend-webgpu).
          lib: ['es2022', 'dom'],
          types: ['node'],
          strict: true,
          noEmit: true,
        },
        files: placed.map((p) => p.file),
      },
      null,
      2,
    ),
  );
  const byFile = new Map<string, string[]>(placed.map((p) => [p.file, []]));
  const other: string[] = [];
  let output = '';
  try {
    await exec(process.execPath, ['node_modules/typescript/bin/tsc', '-p', tsconfig, '--pretty', 'false'], { cwd: projectDir, timeoutMs: 300_000 });
  } catch (error) {
    output = (error as Error).message;
  }
  for (const line of output.split('\n')) {
    const m = /^(snippets\/[^(]+\.ts)\((\d+),(\d+)\): (error .*)$/.exec(line);
    const p = m === null ? undefined : placed.find((x) => x.file === m[1]);
    if (m !== null && p !== undefined) byFile.get(p.file)?.push(`line ${Number(m[2]) - p.preludeLines}:${m[3]} ${m[4]}`);
    else if (/error TS\d+/.test(line)) other.push(line);
  }
  // Errors in Rectify's own declaration files count for every snippet; third-party ones
  // (tfjs's, @webgpu/types against TypeScript's DOM lib) are theirs, and a user's
  // `skipLibCheck` hides them.
  const ours = other.filter((l) => l.includes('node_modules/@rectify/'));
  if (ours.length > 0) for (const list of byFile.values()) list.push(...ours.map((l) => `(in a Rectify declaration file) ${l}`));
  return byFile;
}

/** Runs a snippet's transpiled module with Node in a fresh working folder; returns its output. */
export async function runWithNode(projectDir: string, placed: PlacedSnippet, timeoutMs: number): Promise<string> {
  const source = await readFile(join(projectDir, placed.file), 'utf8');
  const { code } = await transform(source, { loader: 'ts', format: 'esm', target: 'node20' });
  // Beside the project's node_modules: Node resolves imports from the file's folder up.
  const file = join(projectDir, 'snippets', `${placed.slug}.mjs`);
  await writeFile(file, code);
  return runModule(projectDir, file, timeoutMs);
}

/** Runs a module in a fresh working folder (snippets that write files write them there). */
export async function runModule(projectDir: string, file: string, timeoutMs: number): Promise<string> {
  const cwd = await mkdtemp(join(projectDir, 'cwd-'));
  const { stdout, stderr } = await exec(process.execPath, [file], { cwd, timeoutMs });
  return `${stdout}${stderr}`;
}

/**
 * Bundles a snippet with esbuild: for Node (ESM, native addons external, and the usual
 * banner that gives CommonJS dependencies inside an ES module bundle their `require`,
 * `__filename` and `__dirname`) or for the browser. Returns the bundle's path; throws esbuild's errors.
 */
export async function bundle(projectDir: string, placed: PlacedSnippet, platform: 'node' | 'browser'): Promise<string> {
  const outfile = join(projectDir, 'bundles', `${placed.slug}.${platform}.mjs`);
  await build({
    absWorkingDir: projectDir,
    entryPoints: [join(projectDir, placed.file)],
    outfile,
    bundle: true,
    format: 'esm',
    platform,
    target: platform === 'node' ? 'node20' : 'es2022',
    logLevel: 'silent',
    ...(platform === 'node'
      ? {
          external: [...NATIVE_PACKAGES],
          banner: {
            js: [
              "import { createRequire as __rcRequire } from 'node:module';",
              "import { dirname as __rcDirname } from 'node:path';",
              "import { fileURLToPath as __rcPath } from 'node:url';",
              'const require = __rcRequire(import.meta.url);',
              'const __filename = __rcPath(import.meta.url);',
              'const __dirname = __rcDirname(__filename);',
            ].join(' '),
          },
        }
      : {}),
  });
  return outfile;
}
