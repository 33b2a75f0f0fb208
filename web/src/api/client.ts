import type { ErrorBody } from './types.js';

/**
 * What a request to the API gave: its answer, or why there is none. `unavailable` is an endpoint
 * this server does not offer (404 for the route itself, 501, or an answer that is not JSON), so
 * a page can say so instead of breaking.
 */
export type Answer<T> =
  | { readonly kind: 'ok'; readonly data: T }
  | { readonly kind: 'error'; readonly status: number; readonly message: string }
  | { readonly kind: 'unavailable'; readonly status: number; readonly message: string };

/** An API path relative to the page, so a console served under a prefix asks under it too. */
export function apiUrl(path: string, query: Readonly<Record<string, string | undefined>> = {}) {
  const url = new URL(path, document.baseURI);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(name, value);
  }
  return url;
}

/** GETs JSON. */
export async function getJson<T>(url: URL, signal?: AbortSignal): Promise<Answer<T>> {
  const init: RequestInit = { headers: { accept: 'application/json' } };
  return request<T>(url, signal ? { ...init, signal } : init);
}

/** POSTs JSON with the API token. */
export async function postJson<T>(url: URL, body: unknown, token: string): Promise<Answer<T>> {
  return request<T>(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    },
  });
}

async function request<T>(url: URL, init: RequestInit): Promise<Answer<T>> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    return { kind: 'error', status: 0, message: `the server did not answer (${String(cause)})` };
  }
  const json = (response.headers.get('content-type') ?? '').includes('json');
  const body: unknown = json ? await response.json().catch(() => undefined) : undefined;
  const message = errorMessage(body) ?? `${response.status} ${response.statusText}`.trim();
  if (response.ok) {
    // A server that answers a route it lacks with the console's own page is not the API.
    if (!json) return { kind: 'unavailable', status: response.status, message: 'not JSON' };
    return { kind: 'ok', data: body as T };
  }
  // The API answers a route it does not have with 404 "no route ..."; a thing it does not know
  // (a team, a saga) with 404 too, but named.
  if (response.status === 501 || (response.status === 404 && /^no route /.test(message)))
    return { kind: 'unavailable', status: response.status, message };
  return { kind: 'error', status: response.status, message };
}

function errorMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as Partial<ErrorBody>).error;
  if (error && typeof error.message === 'string') return error.message;
  const gateway = (body as { message?: unknown }).message;
  return typeof gateway === 'string' ? gateway : undefined;
}
