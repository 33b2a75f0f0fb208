import type { z } from '@hono/zod-openapi';

/** Where a request's values came from. */
export type RequestPart = 'query' | 'param' | 'body';

/** Names as the message shows them: quoted, escaped, the first five, each cut at 40 characters. */
function quoted(names: readonly string[]): string {
  const shown = names
    .slice(0, 5)
    .map((name) => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name));
  return names.length > 5 ? `${shown.join(', ')} and ${names.length - 5} more` : shown.join(', ');
}

/**
 * The one-line message for values that fail their schema: names nobody asked for first (a
 * misspelt parameter explains the rest), then a query parameter given twice (`repeated`), then
 * the first problem in the schema's order, whose message the schema gives.
 */
export function refusalOf(
  error: z.ZodError,
  part: RequestPart,
  accepted: readonly string[],
  repeated?: string,
): string {
  const unknown = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys : [],
  );
  if (unknown.length > 0) {
    const s = unknown.length > 1 ? 's' : '';
    if (part === 'body')
      return `unknown field${s} ${quoted(unknown)} in the body (it takes ${accepted.join(', ')})`;
    const takes = accepted.length > 0 ? accepted.join(', ') : 'no query parameters';
    return `unknown query parameter${s} ${quoted(unknown)} (this route takes ${takes})`;
  }
  if (repeated !== undefined) return `${repeated} is given more than once`;
  return error.issues[0]?.message ?? `the ${part} is malformed`;
}
