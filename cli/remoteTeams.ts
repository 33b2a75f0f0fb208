import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { applyTeamMetadata, type TeamChange, type TeamMetadata } from '../ingest/teamMetadata.js';
import type { EventStore } from '../stream/eventStore/EventStore.js';

/** The local server's route that registers or updates a team in the folder it holds. */
export const TEAMS_ROUTE = '/admin/teams';

/** A team's metadata is a few names: anything larger is not one. */
const MAX_BODY_BYTES = 16 * 1024;

const FIELDS = ['conference', 'division', 'region'] as const;

/** The body of `POST /admin/teams`: a team's metadata and the run's correlation id. */
interface TeamRequest {
  readonly metadata: TeamMetadata;
  readonly correlation_id: string;
}

/** The request's team, or why it is not one. */
function teamRequestOf(body: unknown): TeamRequest | string {
  const { metadata, correlation_id: correlation } = (body ?? {}) as Record<string, unknown>;
  if (typeof correlation !== 'string' || correlation === '')
    return 'correlation_id must be a string';
  const fields = (metadata ?? {}) as Record<string, unknown>;
  if (typeof fields.team !== 'string' || fields.team.trim() === '')
    return 'metadata.team must be a team name';
  for (const field of FIELDS) {
    const value = fields[field];
    if (value !== undefined && value !== null && typeof value !== 'string')
      return `metadata.${field} must be a string or null`;
  }
  const known = new Set<string>(['team', ...FIELDS]);
  const unknown = Object.keys(fields).find((k) => !known.has(k));
  if (unknown !== undefined) return `metadata.${unknown} is not a team's field`;
  return { metadata: fields as unknown as TeamMetadata, correlation_id: correlation };
}

/**
 * `POST /admin/teams` on the local server (with its token, as every write): registers a team
 * or updates its conference, division or region in the store of the pipeline it serves, as
 * `matchstream teams import` and `teams update` do on a folder no server holds, so they work
 * while `serve` holds it. The body is `{"metadata": {...}, "correlation_id": "..."}`; the
 * answer the change (`registered`, `updated` with the fields, or `unchanged`).
 */
export function mountTeams(app: Hono, store: EventStore): void {
  app.post(
    TEAMS_ROUTE,
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json(
          { error: { status: 413, message: `the body is over ${MAX_BODY_BYTES} bytes` } },
          413,
        ),
    }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: { status: 400, message: 'the body must be JSON' } }, 400);
      }
      const request = teamRequestOf(body);
      if (typeof request === 'string')
        return c.json({ error: { status: 400, message: request } }, 400);
      try {
        return c.json(
          await applyTeamMetadata(store, request.metadata, request.correlation_id),
          200,
        );
      } catch (error) {
        // The token's holder runs the command that asked: it reports the reason per team.
        const message = error instanceof Error ? error.message : String(error);
        return c.json({ error: { status: 500, message } }, 500);
      }
    },
  );
}

/**
 * A team's metadata applied through the server holding a data folder (`POST /admin/teams`):
 * answers the change as `applyTeamMetadata` would, or fails saying why.
 */
export async function applyTeamThrough(
  api: string,
  token: string,
  metadata: TeamMetadata,
  correlationId: string,
): Promise<TeamChange> {
  let response: Response;
  try {
    response = await fetch(new URL(TEAMS_ROUTE, api), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ metadata, correlation_id: correlationId }),
    });
  } catch (error) {
    throw new Error(
      `the server holding the data folder does not answer at ${api}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const answer = (await response.json().catch(() => undefined)) as
    | (TeamChange & { error?: { message?: string } })
    | undefined;
  if (!response.ok || answer === undefined || answer.error !== undefined)
    throw new Error(
      `the server at ${api} refused the team (${response.status}): ${answer?.error?.message ?? response.statusText}`,
    );
  return answer;
}
