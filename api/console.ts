import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono, MiddlewareHandler } from 'hono';

/**
 * What the console's page may load: its own scripts and styles (Observable Plot writes style
 * attributes and a `<style>` into its SVG, hence inline styles), and the API of its own origin.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

/** The file `vite build` writes the page to, in the console's folder. */
const INDEX = 'index.html';

/**
 * A file of the console, served with its caching and the page's security headers; a file it
 * does not have is a 404 naming it (one of another build, which a page loaded before the console
 * was built again asks for), not the API's answer to a path it has no route for.
 */
function consoleFile(cache: string, options: { root: string; path?: string }): MiddlewareHandler {
  const serve = serveStatic(options);
  return async (c) => {
    let found = true;
    const response = await serve(c, async () => {
      found = false;
    });
    if (!found) {
      const message = `no file ${c.req.path} in the web console (a page of another build asks for it: reload the page)`;
      return c.json({ error: { status: 404, message } }, 404);
    }
    if (response instanceof Response && response.ok) {
      response.headers.set('Cache-Control', cache);
      response.headers.set('Content-Security-Policy', CONSOLE_CSP);
      response.headers.set('X-Content-Type-Options', 'nosniff');
      response.headers.set('Referrer-Policy', 'no-referrer');
    }
    return response;
  };
}

/**
 * Serves the web console built into `dir` (`npm run build` writes it to `dist/web/`): the page
 * at `GET /`, its files at `/assets/...` (named by content hash, so cached for good). Mounted
 * before the API's 404, on the local server and in the API's Lambda function alike. Without a
 * built console, `GET /` says how to build it.
 */
export function mountConsole(app: Hono, dir: string): void {
  const built = existsSync(join(dir, INDEX));
  const page: MiddlewareHandler = built
    ? consoleFile('no-cache', { root: dir, path: INDEX })
    : async (c) =>
        c.json(
          {
            error: {
              status: 404,
              message:
                'the web console is not built here: run npm run build (the API itself is at /openapi.json)',
            },
          },
          404,
        );
  app.get('/', page);
  app.get('/assets/*', consoleFile('public, max-age=31536000, immutable', { root: dir }));
}
