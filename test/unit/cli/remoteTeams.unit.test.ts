import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { mountTeams, TEAMS_ROUTE } from '../../../cli/remoteTeams.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { registry } from '../../support/registry.js';

/** The route on a fresh store, and a POST of `body` to it. */
function route() {
  const store = new InMemoryEventStore(registry);
  const app = new Hono();
  mountTeams(app, store);
  const post = async (body: string) => {
    const response = await app.request(TEAMS_ROUTE, { method: 'POST', body });
    return { status: response.status, body: await response.json() };
  };
  return { store, post };
}

describe('POST /admin/teams', () => {
  it('registers a team, updates what changed, and leaves the same metadata unchanged', async () => {
    const { store, post } = route();
    const team = (conference: string) =>
      JSON.stringify({ metadata: { team: 'A', conference }, correlation_id: 'c1' });

    expect(await post(team('East'))).toEqual({
      status: 200,
      body: { team: 'A', outcome: 'registered' },
    });
    expect(await post(team('West'))).toEqual({
      status: 200,
      body: { team: 'A', outcome: 'updated', changed: ['conference'] },
    });
    expect(await post(team('West'))).toEqual({
      status: 200,
      body: { team: 'A', outcome: 'unchanged' },
    });
    expect((await store.read('team:A')).map((e) => e.event_type)).toEqual([
      'TeamRegistered',
      'TeamMetadataUpdated',
    ]);
  });

  it.each([
    ['not JSON', 'the body must be JSON'],
    ['{"metadata": {"team": "A"}}', 'correlation_id must be a string'],
    ['{"metadata": {"team": " "}, "correlation_id": "c"}', 'metadata.team must be a team name'],
    [
      '{"metadata": {"team": "A", "conference": 3}, "correlation_id": "c"}',
      'metadata.conference must be a string or null',
    ],
    [
      '{"metadata": {"team": "A", "confrence": "East"}, "correlation_id": "c"}',
      "metadata.confrence is not a team's field",
    ],
  ])('refuses %s with 400, storing nothing', async (body, message) => {
    const { store, post } = route();

    expect(await post(body)).toEqual({ status: 400, body: { error: { status: 400, message } } });
    expect(await store.read('team:A')).toEqual([]);
  });

  it('refuses a body over 16 KB with 413', async () => {
    const { post } = route();
    const body = JSON.stringify({ metadata: { team: 'x'.repeat(20_000) }, correlation_id: 'c' });

    expect((await post(body)).status).toBe(413);
  });
});
