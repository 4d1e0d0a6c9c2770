import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Serves a response whose URL has `isolated` in its query (the page, `?backend=…&isolated`)
 * with the two headers that make a page cross-origin isolated (`crossOriginIsolated`, so
 * `SharedArrayBuffer` and threads for `cpu-wasm`). Only the document's headers decide it;
 * every subresource is same-origin, which `require-corp` allows.
 */
const crossOriginIsolation: Plugin = {
  name: 'rectify-cross-origin-isolation',
  configureServer(server) {
    server.middlewares.use((request, response, next) => {
      if (new URL(request.url ?? '/', 'http://localhost').searchParams.has('isolated')) {
        response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      }
      next();
    });
  },
};

/**
 * The conformance page, served by Vite's dev server (`pnpm --filter
 * @rectify/conformance-browser page`, and the Node test): esbuild pre-bundles tfjs and
 * gpu.js in seconds, where a production build spends a minute bundling a page that only
 * a test opens.
 */
export default defineConfig({
  root: here,
  plugins: [crossOriginIsolation],
  logLevel: 'warn',
  // Vite finds every dependency up front (the dynamic imports of the registry included),
  // so a page never reloads to optimise a late-found one.
  // onnxruntime-web is served as it is, not pre-bundled: it fetches its .wasm with
  // `new URL('ort-wasm-simd-threaded.jsep.wasm', import.meta.url)`, which resolves next
  // to its own module in node_modules (served by Vite) but not inside .vite/deps.
  optimizeDeps: { entries: ['index.html'], exclude: ['onnxruntime-web'] },
  build: { target: 'es2022' },
  esbuild: { target: 'es2022' },
});
