import { describe, expect, it } from 'vitest';
import { applyTeamMetadata } from '../../../ingest/teamMetadata.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { registry } from '../../support/registry.js';

describe('the team metadata manager', () => {
  it('registers a new team, updates only what changed, and appends nothing for the same metadata', async () => {
    const store = new InMemoryEventStore(registry);

    const outcomes = [
      await applyTeamMetadata(store, { team: 'Ash', conference: 'East', division: 'I' }, 'c'),
      await applyTeamMetadata(store, { team: 'Ash', conference: 'East', division: 'I' }, 'c'),
      await applyTeamMetadata(store, { team: 'Ash', division: 'II', region: 'North' }, 'c'),
    ];

    expect(outcomes.map((o) => o.outcome)).toEqual(['registered', 'unchanged', 'updated']);
    expect(outcomes[2]).toMatchObject({ changed: ['division', 'region'] });
    const events = await store.read('team:Ash');
    expect(events.map((e) => [e.event_type, e.data])).toEqual([
      [
        'TeamRegistered',
        { team_id: 'Ash', name: 'Ash', conference: 'East', division: 'I', region: null },
      ],
      [
        'TeamMetadataUpdated',
        { team_id: 'Ash', name: null, conference: null, division: 'II', region: 'North' },
      ],
    ]);
  });

  it('lets concurrent writers of one team both land, one after the other', async () => {
    const store = new InMemoryEventStore(registry);
    await applyTeamMetadata(store, { team: 'Elm' }, 'c');

    await Promise.all([
      applyTeamMetadata(store, { team: 'Elm', division: 'III' }, 'c'),
      applyTeamMetadata(store, { team: 'Elm', conference: 'West' }, 'c'),
    ]);

    const events = await store.read('team:Elm');
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const changed = events
      .slice(1)
      .map((e) =>
        e.event_type === 'TeamMetadataUpdated' ? (e.data.division ?? e.data.conference) : undefined,
      );
    expect(changed.sort()).toEqual(['III', 'West']);
  });
});
