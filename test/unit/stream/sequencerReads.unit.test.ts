import { describe, expect, it } from 'vitest';
import { routedWithoutPosition } from '../../../stream/buses/busRouter.js';
import { AggregateSequencer } from '../../../stream/consumer/AggregateSequencer.js';
import { InMemoryPositionStore } from '../../../stream/consumer/PositionStore.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import {
  matchRecorded,
  registry,
  teamMetadataUpdated,
  teamRegistered,
} from '../../support/registry.js';

/** A consumer that reads only `TeamMetadataUpdated`, over a store with a team and a match. */
async function prepare() {
  const store = new InMemoryEventStore(registry);
  await store.append('team:a', 0, [{ event_type: 'TeamRegistered', data: teamRegistered('A') }]);
  await store.append('match:1', 0, [{ event_type: 'MatchRecorded', data: matchRecorded('m1') }]);
  await store.append('team:a', 1, [
    { event_type: 'TeamMetadataUpdated', data: teamMetadataUpdated('A', { conference: 'East' }) },
  ]);
  const positions = new InMemoryPositionStore();
  const applied: EventEnvelope[] = [];
  const sequencer = new AggregateSequencer({
    consumer: 'reads-few',
    store,
    positions,
    apply: async (events) => {
      applied.push(...events);
    },
    reads: (event) => event.event_type === 'TeamMetadataUpdated',
  });
  return { store, positions, applied, sequencer };
}

describe('a sequencer whose consumer reads some event types only', () => {
  it('leaves a stream alone, position included, while it brings none of them', async () => {
    // Prepare
    const { store, positions, applied, sequencer } = await prepare();
    const [registered] = await store.read('team:a', { toSequence: 1 });
    const [match] = await store.read('match:1');

    // Act
    const delivery = await sequencer.deliverAll([
      [registered as EventEnvelope],
      [match as EventEnvelope],
    ]);

    // Assess
    expect(delivery).toEqual({ applied: 0, duplicates: 0, filled: 0, skipped: 2 });
    expect(applied).toEqual([]);
    expect(await positions.positions(['team:a', 'match:1'])).toEqual(
      new Map([
        ['team:a', 0],
        ['match:1', 0],
      ]),
    );
  });

  it('applies a stream from its start, read from the store, once it brings one of them', async () => {
    // Prepare: the stream's first event went by unread.
    const { store, positions, applied, sequencer } = await prepare();
    const [registered, updated] = await store.read('team:a');
    await sequencer.deliver([registered as EventEnvelope]);

    // Act: the event it reads, and the first again (the stream delivers at least once).
    const delivery = await sequencer.deliverAll([
      [updated as EventEnvelope],
      [registered as EventEnvelope],
    ]);

    // Assess: every event of the stream once, in order; the position at its last.
    expect(applied.map((e) => [e.event_type, e.sequence])).toEqual([
      ['TeamRegistered', 1],
      ['TeamMetadataUpdated', 2],
    ]);
    expect(delivery.applied).toBe(2);
    expect((await positions.positions(['team:a'])).get('team:a')).toBe(2);
  });
});

describe('a sequencer whose effect ignores a repeat (skipFirstPositions)', () => {
  it('neither reads nor writes a position for a stream that brings its first event alone, and reads it for one past its first', async () => {
    // Prepare: positions that count their reads, over a store with a team of two events.
    const { store } = await prepare();
    const positions = new InMemoryPositionStore();
    const asked: string[][] = [];
    const read = positions.positions.bind(positions);
    positions.positions = (ids) => {
      asked.push([...ids]);
      return read(ids);
    };
    const applied: string[] = [];
    const sequencer = new AggregateSequencer({
      consumer: 'guarded',
      store,
      positions,
      apply: async (events) => {
        applied.push(...events.map((e) => `${e.aggregate_id}#${e.sequence}`));
      },
      skipFirstPositions: true,
    });
    const [match] = await store.read('match:1');
    const [registered, updated] = await store.read('team:a');

    // Act: the match's first event alone, twice; then the team's two events in one delivery.
    await sequencer.deliver([match as EventEnvelope]);
    await sequencer.deliver([match as EventEnvelope]);
    await sequencer.deliverAll([[registered as EventEnvelope], [updated as EventEnvelope]]);

    // Assess: the match applied each time it came (its effect ignores the repeat), its position
    // neither read nor written; the team's read, and written at its last event.
    expect(applied).toEqual(['match:1#1', 'match:1#1', 'team:a#1', 'team:a#2']);
    expect(asked).toEqual([['team:a']]);
    expect(await read(['match:1', 'team:a'])).toEqual(
      new Map([
        ['match:1', 0],
        ['team:a', 2],
      ]),
    );
  });

  it("as the bus router takes it: no position for a result's or a team's first event, one for any other stream", async () => {
    // Prepare: a store with a team of two events, a match, and a stream that starts with an
    // event of another type (as a saga's or a calculation's streams do).
    const { store } = await prepare();
    await store.append('other:1', 0, [
      { event_type: 'TeamMetadataUpdated', data: teamMetadataUpdated('S', { conference: 'West' }) },
    ]);
    const positions = new InMemoryPositionStore();
    const published: string[] = [];
    const sequencer = new AggregateSequencer({
      consumer: 'bus-router',
      store,
      positions,
      apply: async (events) => {
        published.push(...events.map((e) => `${e.aggregate_id}#${e.sequence}`));
      },
      skipFirstPositions: routedWithoutPosition,
    });
    const [match] = await store.read('match:1');
    const [registered, updated] = await store.read('team:a');
    const [other] = await store.read('other:1');

    // Act: the firsts, the match's again; then the team's next event alone.
    await sequencer.deliverAll([
      [match as EventEnvelope],
      [registered as EventEnvelope],
      [other as EventEnvelope],
    ]);
    await sequencer.deliverAll([[match as EventEnvelope], [other as EventEnvelope]]);
    await sequencer.deliver([updated as EventEnvelope]);

    // Assess: the match published again, the other stream's repeat dropped by its position;
    // the team's first event read from the store and published again before its next.
    expect(published).toEqual([
      'match:1#1',
      'team:a#1',
      'other:1#1',
      'match:1#1',
      'team:a#1',
      'team:a#2',
    ]);
    expect(await positions.positions(['match:1', 'team:a', 'other:1'])).toEqual(
      new Map([
        ['match:1', 0],
        ['team:a', 2],
        ['other:1', 1],
      ]),
    );
    expect(routedWithoutPosition(match as EventEnvelope)).toBe(true);
    expect(routedWithoutPosition(updated as EventEnvelope)).toBe(false);
  });
});
