import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The API routes the console reads, which `npm run dev:web` passes on to a running server. */
const API_ROUTES = [
  'rankings',
  'standings',
  'seasons',
  'teams',
  'sagas',
  'health',
  'live',
  'store',
  'consumers',
  'dead-letters',
  'notifications',
  'openapi.json',
];
/** The server `npm run dev:web` asks: `matchstream serve`'s default address unless told. */
const api = process.env.MATCHSTREAM_API ?? 'http://127.0.0.1:8080';

/**
 * The web console: built to dist/web, which `matchstream serve` serves at `/`. Relative asset
 * paths (`base: './'`) let it be served under a path prefix too (API Gateway's stage).
 */
export default defineConfig({
  root: here,
  base: './',
  publicDir: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // `npm run dev:web`: the console from its source, reloading on each change, in front of a
  // running `matchstream serve`.
  server: {
    host: '127.0.0.1',
    proxy: Object.fromEntries(API_ROUTES.map((route) => [`/${route}`, api])),
  },
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
