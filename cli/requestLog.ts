import type { Log } from '../stream/Log.js';

/**
 * Wraps an HTTP server's `fetch` so that each request leaves one line in the log: method,
 * path (without the query), status and duration. Never a header, a body or the query string,
 * so neither a token nor a payload can reach the log.
 */
export function logRequests<A extends unknown[]>(
  fetch: (request: Request, ...rest: A) => Response | Promise<Response>,
  logger: Log,
  now: () => number = () => performance.now(),
): (request: Request, ...rest: A) => Promise<Response> {
  return async (request, ...rest) => {
    const started = now();
    const line = (status: number) => ({
      method: request.method,
      path: pathOf(request.url),
      status,
      duration_ms: Math.round((now() - started) * 10) / 10,
    });
    try {
      const response = await fetch(request, ...rest);
      if (response.status >= 500) logger.error(line(response.status), 'request');
      else logger.info(line(response.status), 'request');
      return response;
    } catch (error) {
      logger.error(
        { ...line(500), error: error instanceof Error ? error.message : String(error) },
        'request failed',
      );
      throw error;
    }
  };
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(unparsable)';
  }
}
