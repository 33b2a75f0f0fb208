import { describe, expect, it } from 'vitest';
import type { EventType } from '../../../schemas/events.js';
import { DependencyUnavailable } from '../../../stream/breaker/DependencyUnavailable.js';
import { InMemoryBusArchive } from '../../../stream/buses/BusArchive.js';
import { busEntryOf } from '../../../stream/buses/BusPublisher.js';
import { busRouter } from '../../../stream/buses/busRouter.js';
import { domainOf } from '../../../stream/buses/domains.js';
import type { BusEvent } from '../../../stream/buses/eventPattern.js';
import { LocalBusPublisher } from '../../../stream/buses/LocalBusPublisher.js';
import { LocalEventBus } from '../../../stream/buses/LocalEventBus.js';
import { InMemoryDeadLetterQueue } from '../../../stream/consumer/DeadLetterQueue.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { sampleEnvelope, envelope as spec } from '../../support/envelopes.js';
import { matchRecorded } from '../../support/registry.js';

/** An event of a type as the router publishes it; results with two home goals (patterns match on them). */
function envelope(eventType: EventType, aggregateId = 'match:m1'): EventEnvelope {
  const eventId = `${eventType}-${aggregateId}`;
  return eventType === 'MatchRecorded'
    ? { ...spec('MatchRecorded', aggregateId, 1, matchRecorded('m1', 2, 1)), event_id: eventId }
    : sampleEnvelope(eventType, aggregateId, 1, eventId);
}

function bus(options: { maxAttempts?: number } = {}) {
  const deadLetters = new InMemoryDeadLetterQueue();
  const archive = new InMemoryBusArchive();
  return {
    deadLetters,
    archive,
    bus: new LocalEventBus('matchstream-soccer', {
      deadLetters,
      archive,
      retryDelayMs: 1,
      ...options,
    }),
  };
}

describe('domain buses', () => {
  it('maps event types to their domain buses', () => {
    expect(
      ['MatchRecorded', 'TeamRegistered', 'RpiCalculated', 'SagaStarted', 'Unknown'].map(domainOf),
    ).toEqual(['soccer', 'metadata', 'calculation', 'main', 'main']);
    expect(busEntryOf(envelope('RankingsCacheUpdated'))).toMatchObject({
      domain: 'calculation',
      source: 'matchstream.calculation',
      detailType: 'RankingsCacheUpdated',
    });
    expect(busEntryOf(envelope('MatchRecorded'), { replayed: true }).detail.replayed).toBe(true);
  });

  it('delivers an event to every rule whose pattern matches, in EventBridge shape', async () => {
    const { bus: soccer } = bus();
    const got: Record<string, BusEvent[]> = { results: [], goals: [], teams: [] };
    soccer.register({
      name: 'results',
      pattern: { 'detail-type': ['MatchRecorded'] },
      handler: async (e) => void got.results?.push(e),
    });
    soccer.register({
      name: 'goals',
      pattern: { detail: { data: { home_goals: [{ numeric: ['>', 1] }] } } },
      handler: async (e) => void got.goals?.push(e),
    });
    soccer.register({
      name: 'teams',
      pattern: { 'detail-type': ['TeamRegistered'] },
      handler: async (e) => void got.teams?.push(e),
    });
    const publisher = new LocalBusPublisher(
      { main: soccer, soccer, calculation: soccer, metadata: soccer },
      new InMemoryDeadLetterQueue(),
    );

    await busRouter(publisher)([envelope('MatchRecorded')]);

    expect(got.results).toHaveLength(1);
    expect(got.goals).toHaveLength(1);
    expect(got.teams).toHaveLength(0);
    expect(got.results?.[0]).toMatchObject({
      version: '0',
      source: 'matchstream.soccer',
      'detail-type': 'MatchRecorded',
      time: '2026-09-01T20:00:00Z',
      detail: { event_id: 'MatchRecorded-match:m1' },
    });
  });

  it('retries a failing target and dead-letters the event with the error when it keeps failing', async () => {
    const { bus: soccer, deadLetters } = bus({ maxAttempts: 3 });
    let calls = 0;
    soccer.register({
      name: 'flaky',
      pattern: { source: ['matchstream.soccer'] },
      handler: async () => {
        calls++;
        throw new Error('handler down');
      },
    });
    let okCalls = 0;
    soccer.register({
      name: 'once-flaky',
      pattern: { source: ['matchstream.soccer'] },
      handler: async () => {
        okCalls++;
        if (okCalls === 1) throw new Error('blip');
      },
    });

    const result = await soccer.put([soccer.busEvent(busEntryOf(envelope('MatchRecorded')))]);

    expect(result).toEqual({ delivered: 1, deadLettered: 1 });
    expect(calls).toBe(3);
    expect(okCalls).toBe(2);
    expect(deadLetters.letters).toEqual([
      expect.objectContaining({
        consumer: 'bus:matchstream-soccer/flaky',
        error: 'handler down',
        attempts: 3,
      }),
    ]);
  });

  it('holds an event for a target whose breaker is open, counting no attempt, until it goes through', async () => {
    const { bus: soccer, deadLetters } = bus({ maxAttempts: 1 });
    let calls = 0;
    soccer.register({
      name: 'guarded',
      pattern: { source: ['matchstream.soccer'] },
      handler: async () => {
        calls++;
        if (calls <= 3)
          throw new DependencyUnavailable('match-event-handler/saga-work', Date.now() + 20);
      },
    });

    const result = await soccer.put([soccer.busEvent(busEntryOf(envelope('MatchRecorded')))]);

    expect(result).toEqual({ delivered: 1, deadLettered: 0 });
    expect(calls).toBe(4);
    expect(soccer.stats.held).toBe(3);
    expect(deadLetters.letters).toEqual([]);
  });

  it('ends a held delivery when the bus closes, failing its put so nothing is taken as delivered', async () => {
    const { bus: soccer, deadLetters } = bus({ maxAttempts: 1 });
    soccer.register({
      name: 'guarded',
      pattern: { source: ['matchstream.soccer'] },
      handler: async () => {
        throw new DependencyUnavailable('match-event-handler/saga-work', Date.now() + 60_000);
      },
    });

    const put = soccer.put([soccer.busEvent(busEntryOf(envelope('MatchRecorded')))]);
    setTimeout(() => soccer.close(), 20);

    await expect(put).rejects.toBeInstanceOf(DependencyUnavailable);
    expect(deadLetters.letters).toEqual([]);
  });

  it('replays archived events to the rules registered now, marked as a replay', async () => {
    const { bus: soccer } = bus();
    await soccer.put([soccer.busEvent(busEntryOf(envelope('MatchRecorded')))]);
    const replayed: BusEvent[] = [];
    soccer.register({
      name: 'late',
      pattern: { 'detail-type': ['MatchRecorded'] },
      handler: async (e) => void replayed.push(e),
    });

    const result = await soccer.replay({ from: '2026-09-01T00:00:00Z' });

    expect(result.delivered).toBe(1);
    expect(replayed[0]?.['replay-name']).toBe('matchstream-soccer-replay');
    expect(await soccer.replay({ from: '2026-09-02T00:00:00Z' })).toEqual({
      delivered: 0,
      deadLettered: 0,
    });
  });

  it('refuses an invalid pattern and a second rule of the same name', () => {
    const { bus: soccer } = bus();
    soccer.register({ name: 'a', pattern: { source: ['x'] }, handler: async () => {} });

    expect(() =>
      soccer.register({ name: 'a', pattern: { source: ['x'] }, handler: async () => {} }),
    ).toThrow(/has a rule named a/);
    expect(() =>
      soccer.register({ name: 'b', pattern: { source: 'x' }, handler: async () => {} }),
    ).toThrow(/source/);
  });
});
