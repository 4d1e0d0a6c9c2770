import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The long-run test measures heap growth: with gc() exposed it measures live memory,
    // not whatever garbage happens to be uncollected. And resident memory: with V8's
    // baseline WebAssembly compiler (Liftoff) V8 recompiles hot functions later, while the
    // test runs, so onnxruntime-web's large module grew RSS by 52-90 MB over 1000 steps of
    // onnx-web (6.9 MB with --no-liftoff, which compiles it optimised once, up front).
    poolOptions: { forks: { execArgv: ['--expose-gc', '--no-liftoff'] } },
    // An X server for the registry's headless-gl backend where none is set.
    globalSetup: [fileURLToPath(import.meta.resolve('@rectify/conformance/xvfb'))],
  },
});
