/**
 * The golden cases inside headless Chromium (Debian's, driven by playwright-core), on
 * every backend of the page's registry: serves the page with Vite's dev server on a free
 * localhost port (no production build: that alone took a minute), opens it once per backend (`?backend=NAME`) and turns the page's report
 * into one test per backend × golden case, so that a failure names its case. The page
 * judges each case with `@rectify/conformance/portable`, exactly as the Node suite does.
 *
 * Off CI, a missing Chromium, or a backend this browser cannot run (no WebGPU adapter, no
 * WebGL context), skips with the reason; on CI (`RECTIFY_REQUIRE_ALL_BACKENDS=1`) it fails.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { everyBackendRequired, radamGoldenCases, schedulerGoldenCases } from '@rectify/conformance';
import { describeUnavailable } from '@rectify/conformance/vitest';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { PAGE_BACKENDS } from '../page/backends.js';
import type { CheckResult } from '../page/conformance.js';
import type { PageReport } from '../page/main.js';

const CONFIG = fileURLToPath(new URL('../page/vite.config.ts', import.meta.url));
/** One backend's whole page run (every golden case on a software GPU). */
const PAGE_TIMEOUT = 300_000;

const radam = radamGoldenCases();
const schedulers = schedulerGoldenCases();
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does it on CI)`;

/** Fails with every problem of `result`, or when the page did not report it. */
function expectPassed(result: CheckResult | undefined, name: string): void {
  if (result === undefined) expect.fail(`the page reported no result for ${name}`);
  if (!result.passed) expect.fail(result.problems.join('\n'));
}

if (missing !== undefined) {
  for (const entry of PAGE_BACKENDS) describeUnavailable(`${entry.name} (Chromium)`, missing);
  describeUnavailable('schedulers (Chromium)', missing);
} else {
  let server: ViteDevServer;
  let browser: Browser;

  beforeAll(async () => {
    // No file watching, no hot reload: the page is opened, run and read, never edited.
    server = await createServer({ configFile: CONFIG, logLevel: 'error', server: { host: '127.0.0.1', port: 0, hmr: false, watch: null } });
    await server.listen();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Opens the page with `query` in a fresh context and returns its report; page errors fail it. */
  async function pageReport(query: string): Promise<PageReport> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // A reload would mean the dev server re-optimised a dependency mid-run: the run starts over.
      let loads = 0;
      page.on('load', () => loads++);
      await page.goto(`${server.resolvedUrls!.local[0]!}?${query}`);
      await page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: PAGE_TIMEOUT });
      const report = await page.evaluate(() => window.rectifyReport);
      if (report === undefined) throw new Error(`the page published no report (errors: ${errors.join('; ') || 'none'})`);
      if (report.error !== undefined) throw new Error(`the page failed: ${report.error}`);
      if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`);
      if (loads !== 1) console.warn(`[chromium] ${query}: the page loaded ${loads} times (a dependency optimised late?)`);
      return report;
    } finally {
      await context.close();
    }
  }

  describe('golden scheduler sequences, in Chromium', () => {
    let report: PageReport;
    beforeAll(async () => {
      report = await pageReport('schedulers');
    }, PAGE_TIMEOUT);
    for (const testCase of schedulers) {
      it(testCase.name, () => expectPassed(report.schedulers?.find((r) => r.name === testCase.name), testCase.name));
    }
  });

  for (const entry of PAGE_BACKENDS) {
    describe(`${entry.name}: conformance in Chromium`, () => {
      let report: PageReport;
      let warned = false;
      beforeAll(async () => {
        const start = Date.now();
        report = await pageReport(`backend=${encodeURIComponent(entry.name)}${entry.crossOriginIsolated ? '&isolated' : ''}`);
        const backend = report.backend!;
        const passed = [...backend.goldens, ...backend.checks].filter((r) => r.passed).length;
        console.log(
          `[chromium] ${entry.name}: ${backend.unavailable !== undefined ? `unavailable: ${backend.unavailable}` : `${backend.backend} ${backend.dtype}, ${passed}/${backend.goldens.length + backend.checks.length} passed`} in ${Date.now() - start} ms ` +
            `(${backend.goldens.map((r) => `${r.name} ${r.ms}`).join(', ')})`,
        );
        for (const check of backend.checks) if (check.detail !== undefined) console.log(`[chromium] ${entry.name}: ${check.name}: ${check.detail}`);
        const fallbacks = backend.kernelFallbacks;
        if (fallbacks.length > 0) console.log(`[chromium] ${entry.name}: ${fallbacks.length} kernel fallbacks, e.g. ${fallbacks.slice(0, 3).join('; ')}`);
      }, PAGE_TIMEOUT);

      /** The backend's report, or a skip (off CI) / failure (CI) when the browser cannot run it. */
      function available(context: TestContext): NonNullable<PageReport['backend']> {
        const backend = report.backend!;
        if (backend.unavailable !== undefined) {
          if (everyBackendRequired()) throw new Error(`${entry.name} cannot run in Chromium: ${backend.unavailable}`);
          if (!warned) console.warn(`[${entry.name}] skipped in Chromium: ${backend.unavailable}`);
          warned = true;
          context.skip();
        }
        return backend;
      }

      it('ran every golden case, in file order', (context) => {
        expect(available(context).goldens.map((r) => r.name)).toEqual(radam.map((c) => c.name));
      });
      describe('golden RAdam trajectories', () => {
        for (const testCase of radam) {
          it(testCase.name, (context) => expectPassed(available(context).goldens.find((r) => r.name === testCase.name), testCase.name));
        }
      });
      // A kernel gpu.js quietly ran in another mode would mean the GPU path was not the one tested.
      it('ran every kernel in the mode asked for (no kernel fallbacks)', (context) => {
        expect(available(context).kernelFallbacks).toEqual([]);
      });
      if (entry.threading !== undefined) {
        it(`every backend made reports threading "${entry.threading}"`, (context) => {
          expect(available(context).threading).toEqual([entry.threading]);
        });
      }
      it(`state dict round trip and bad input (RectifyError, nothing changed)${entry.checks ? ', and its own checks' : ''}`, (context) => {
        const { checks } = available(context);
        expect(checks.length).toBeGreaterThan(entry.checks ? 3 : 0);
        const failed = checks.filter((r) => !r.passed).map((r) => `${r.name}:\n  ${r.problems.join('\n  ')}`);
        expect(failed, failed.join('\n')).toEqual([]);
      });
    });
  }
}
