import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The conformance page, served by Vite's dev server (`pnpm --filter
 * @rectify/conformance-browser page`, and the Node test): esbuild pre-bundles tfjs and
 * gpu.js in seconds, where a production build spends a minute bundling a page that only
 * a test opens.
 */
export default defineConfig({
  root: here,
  logLevel: 'warn',
  // Vite finds every dependency up front (the dynamic imports of the registry included),
  // so a page never reloads to optimise a late-found one.
  optimizeDeps: { entries: ['index.html'] },
  build: { target: 'es2022' },
  esbuild: { target: 'es2022' },
});
