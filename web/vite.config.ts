import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web console: built to dist/web, which `matchstream serve` serves at `/`. Relative asset
 * paths (`base: './'`) let it be served under a path prefix too (API Gateway's stage).
 */
export default defineConfig({
  root: here,
  base: './',
  publicDir: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No module preload polyfill: it fetches with the page's own URL rules; every browser the
    // console supports preloads modules natively.
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});
