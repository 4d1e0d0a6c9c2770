import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/** The web page: `pnpm --filter @rectify/example web` serves it, `web:build` writes `dist/web`. */
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: join(here, '..', 'dist', 'web'),
    emptyOutDir: true,
    target: 'es2022',
    // tfjs, gpu.js and vega make one large bundle; the page is a demo, not a product.
    chunkSizeWarningLimit: 5000,
  },
});
