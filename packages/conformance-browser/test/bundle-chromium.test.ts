/**
 * An application as a user ships it: an entry that imports `wasmCpuBackend` from
 * `@rectify/backend-cpu` (resolved through the package's `browser` export condition),
 * bundled by esbuild for the browser with no plugin and no loader (the kernels are
 * embedded, the worker is a Blob URL), then run in headless Chromium on a page that is
 * cross-origin isolated (Web Workers) and on one that is not (one thread). Vite is
 * covered by the conformance page, which Vite serves.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describeUnavailable } from '@rectify/conformance/vitest';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM } from './chromium.js';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

/** One step of RAdam on 8 weights, split across the workers where there are any (4-element chunks). */
const APP = `
import { RAdam } from '@rectify/core';
import { wasmCpuBackend } from '@rectify/backend-cpu';
const backend = await wasmCpuBackend({ threads: 2, chunkElements: 4, parallelThreshold: 0 });
const w = backend.fromArray([1, 2, 3, 4, 5, 6, 7, 8], [8]);
const opt = new RAdam(backend, { lr: 0.1 });
opt.registerTrainableWeights({ w });
opt.step({ w: backend.fromArray([1, -1, 0.5, 0, 2, -2, 0.25, 1], [8]) });
window.rectifyBundle = { w: Array.from(backend.read(w)), threads: backend.threads, threading: backend.threading };
backend.dispose();
`;
/** The first step is not rectified: the bias-corrected first moment is g, so p − lr·g. */
const EXPECTED = [1, 2, 3, 4, 5, 6, 7, 8].map((p, i) => p - 0.1 * [1, -1, 0.5, 0, 2, -2, 0.25, 1][i]!);

interface BundleResult {
  readonly w: number[];
  readonly threads: number;
  readonly threading: string;
}

/** The bundle, minified or not, built from {@link APP} as esbuild's command line would (`--bundle --platform=browser`). */
async function bundle(minify: boolean): Promise<string> {
  const result = await build({
    stdin: { contents: APP, resolveDir: PACKAGE, sourcefile: 'app.mjs' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

if (!existsSync(CHROMIUM)) {
  describeUnavailable('cpu-wasm bundled by esbuild (Chromium)', `${CHROMIUM} is missing (apt-get install chromium; .ci/run does it on CI)`);
} else {
  describe('cpu-wasm bundled by esbuild for the browser, run in Chromium', () => {
    let code: string;
    let server: Server;
    let origin: string;
    let browser: Browser;

    beforeAll(async () => {
      code = await bundle(false);
      // The page and the bundle; `?isolated` pages carry the two headers of cross-origin isolation.
      server = createServer((request, response) => {
        const url = new URL(request.url ?? '/', 'http://127.0.0.1');
        if (url.searchParams.has('isolated')) {
          response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
          response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        }
        if (url.pathname === '/app.js') {
          response.setHeader('Content-Type', 'text/javascript');
          response.end(code);
        } else {
          response.setHeader('Content-Type', 'text/html');
          response.end('<!doctype html><meta charset="utf-8"><script type="module" src="/app.js"></script>');
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => server?.close(resolve));
    });

    /** Opens the page (isolated or not) and returns what the bundle published; a page error fails it. */
    async function run(isolated: boolean): Promise<BundleResult & { readonly crossOriginIsolated: boolean }> {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`${origin}/${isolated ? '?isolated' : ''}`);
        await page.waitForFunction(() => 'rectifyBundle' in window, undefined, { timeout: 60_000 }).catch(() => {
          throw new Error(`the bundle published nothing (page errors: ${errors.join('; ') || 'none'})`);
        });
        expect(errors).toEqual([]);
        return await page.evaluate(() => ({
          ...(window as unknown as { rectifyBundle: BundleResult }).rectifyBundle,
          crossOriginIsolated: globalThis.crossOriginIsolated,
        }));
      } finally {
        await context.close();
      }
    }

    it('references no Node module; its size (min, gzip) is logged', async () => {
      expect(code).not.toMatch(/node:|worker_threads/);
      const minified = await bundle(true);
      console.log(`[bundle] core + cpu-wasm app, esbuild --bundle --platform=browser --minify: ${minified.length} B, gzip ${gzipSync(minified).length} B`);
    });

    it('cross-origin isolated page: 2 threads on Web Workers, the expected step', async () => {
      const result = await run(true);
      expect(result).toMatchObject({ crossOriginIsolated: true, threads: 2, threading: 'workers' });
      result.w.forEach((x, i) => expect(x).toBeCloseTo(EXPECTED[i]!, 6));
    }, 90_000);

    it('page without COOP/COEP: one thread over a plain memory, the same step', async () => {
      const result = await run(false);
      expect(result).toMatchObject({ crossOriginIsolated: false, threads: 1, threading: 'single: not cross-origin isolated' });
      result.w.forEach((x, i) => expect(x).toBeCloseTo(EXPECTED[i]!, 6));
    }, 90_000);
  });
}
