import { describe, expect, it } from 'vitest';
import type { EventData } from '../../schemas/events.js';
import { type BusPublisher, busEntryOf } from '../../stream/buses/BusPublisher.js';
import { DOMAINS, type Domain, sourceOf } from '../../stream/buses/domains.js';
import type { BusEvent, EventPattern } from '../../stream/buses/eventPattern.js';
import type { DeadLetter } from '../../stream/consumer/DeadLetterQueue.js';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import { envelope, sampleEnvelope } from '../support/envelopes.js';
import { matchRecorded } from '../support/registry.js';

/** A rule's target as the test sees it. */
export interface RuleTarget {
  /** Every event delivered to the target since the last call, oldest first. */
  take(): Promise<BusEvent[]>;
}

/** What the contract needs of an adapter under test: fresh buses for each test. */
export interface BusUnderTest {
  readonly publisher: BusPublisher;
  /** Adds a rule to a domain's bus, delivering what matches `pattern` to a new target. */
  rule(domain: Domain, pattern: EventPattern): Promise<RuleTarget>;
  /** What the publisher dead-lettered. */
  deadLetters(): Promise<DeadLetter[]>;
}

let counter = 0;
function matchResult(n: number, data: Partial<EventData<'MatchRecorded'>> = {}): EventEnvelope {
  counter++;
  return envelope(
    'MatchRecorded',
    `match:${process.pid}-${counter}`,
    1,
    { ...matchRecorded(`m${n}`), home_team: 'SEA', away_team: 'POR', ...data },
    '2026-09-01T20:00:00.123Z',
  );
}

function teamRegistered(team: string): EventEnvelope {
  return envelope('TeamRegistered', `team:${team}`, 1, {
    team_id: team,
    name: team,
    conference: null,
    division: 'I',
    region: null,
  });
}

/** The envelope as it comes out of the bus: JSON, as EventBridge carries it. */
function asJson(event: EventEnvelope): unknown {
  return JSON.parse(JSON.stringify(event));
}

/**
 * The contract of the domain buses (the local in-process buses, EventBridge on AWS), seen from
 * the bus router's publisher: every adapter must pass exactly these tests.
 */
export function eventBusContract(name: string, setup: () => Promise<BusUnderTest>): void {
  describe(`event bus contract: ${name}`, () => {
    it('delivers an event whose rule matches, once, in the EventBridge event shape the project maps it to', async () => {
      // Prepare
      const bus = await setup();
      const results = await bus.rule('soccer', { 'detail-type': ['MatchRecorded'] });
      const event = matchResult(1);

      // Act
      const published = await bus.publisher.publish([busEntryOf(event)]);

      // Assess
      expect(published).toEqual({ published: 1, deadLettered: 0 });
      const delivered = await results.take();
      expect(delivered).toHaveLength(1);
      expect(delivered[0]).toEqual({
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'MatchRecorded',
        source: 'matchstream.soccer',
        account: expect.stringMatching(/^\d{12}$/),
        // EventBridge's time is ISO-8601 to the second.
        time: '2026-09-01T20:00:00Z',
        region: expect.any(String),
        resources: [],
        detail: asJson(event),
      });
      expect(await bus.deadLetters()).toEqual([]);
    });

    it('delivers an event to every rule that matches, once each, and to no other', async () => {
      const bus = await setup();
      const soccer = await bus.rule('soccer', { source: ['matchstream.soccer'] });
      const results = await bus.rule('soccer', { 'detail-type': ['MatchRecorded'] });
      const corrections = await bus.rule('soccer', { 'detail-type': ['MatchResultCorrected'] });
      const metadata = await bus.rule('metadata', { source: ['matchstream.soccer'] });
      const event = matchResult(2);

      await bus.publisher.publish([busEntryOf(event)]);

      const ids = async (target: RuleTarget) =>
        (await target.take()).map((e) => (e.detail as EventEnvelope).event_id);
      expect(await ids(soccer)).toEqual([event.event_id]);
      expect(await ids(results)).toEqual([event.event_id]);
      expect(await ids(corrections)).toEqual([]);
      expect(await ids(metadata)).toEqual([]);
    });

    it('puts each event on its domain’s bus with its source', async () => {
      const bus = await setup();
      const everything = (domain: Domain) => bus.rule(domain, { source: DOMAINS.map(sourceOf) });
      const [soccer, metadata, main] = await Promise.all([
        everything('soccer'),
        everything('metadata'),
        everything('main'),
      ]);
      const events = [
        matchResult(3),
        teamRegistered('SEA'),
        sampleEnvelope('SagaStarted', 'saga:s1'),
      ];

      await bus.publisher.publish(events.map((e) => busEntryOf(e)));

      const seen = async (target: RuleTarget) =>
        (await target.take()).map((e) => [e.source, e['detail-type']]);
      expect(await seen(soccer)).toEqual([['matchstream.soccer', 'MatchRecorded']]);
      expect(await seen(metadata)).toEqual([['matchstream.metadata', 'TeamRegistered']]);
      expect(await seen(main)).toEqual([['matchstream.main', 'SagaStarted']]);
    });

    it('filters on the content of the detail as EventBridge patterns do', async () => {
      const bus = await setup();
      const bigWins = await bus.rule('soccer', {
        'detail-type': ['MatchRecorded'],
        detail: { data: { home_goals: [{ numeric: ['>=', 3] }], home_team: [{ prefix: 'SE' }] } },
      });
      const events = [
        matchResult(4, { home_goals: 3 }),
        matchResult(5, { home_goals: 2 }),
        matchResult(6, { home_goals: 5, home_team: 'POR' }),
        matchResult(7, { home_goals: 4 }),
      ];

      await bus.publisher.publish(events.map((e) => busEntryOf(e)));

      const delivered = await bigWins.take();
      expect(delivered.map((e) => (e.detail as EventEnvelope).event_id).sort()).toEqual(
        [events[0]?.event_id, events[3]?.event_id].sort(),
      );
    });

    it('says an event is replayed in its detail', async () => {
      const bus = await setup();
      const results = await bus.rule('soccer', { detail: { replayed: [true] } });

      await bus.publisher.publish([
        busEntryOf(matchResult(8)),
        busEntryOf(matchResult(9), { replayed: true }),
      ]);

      const delivered = await results.take();
      expect(
        delivered.map((e) => (e.detail as { data: { match_id: string } }).data.match_id),
      ).toEqual(['m9']);
    });

    it('takes any number of events at once (PutEvents takes 10 a call), each delivered once', async () => {
      // Prepare
      const bus = await setup();
      const soccer = await bus.rule('soccer', { source: ['matchstream.soccer'] });
      const metadata = await bus.rule('metadata', { source: ['matchstream.metadata'] });
      const matches = Array.from({ length: 25 }, (_, n) => matchResult(100 + n));
      const teams = Array.from({ length: 12 }, (_, n) => teamRegistered(`T${n}-${counter}`));

      // Act
      const published = await bus.publisher.publish(
        [...matches, ...teams].map((e) => busEntryOf(e)),
      );

      // Assess
      expect(published).toEqual({ published: 37, deadLettered: 0 });
      const ids = async (target: RuleTarget) =>
        (await target.take()).map((e) => (e.detail as EventEnvelope).event_id).sort();
      expect(await ids(soccer)).toEqual(matches.map((e) => e.event_id).sort());
      expect(await ids(metadata)).toEqual(teams.map((e) => e.event_id).sort());
      expect(await bus.deadLetters()).toEqual([]);
    });

    it('publishes an event over the 256 KB PutEvents limit as a claim check (its envelope without the data, which the store holds), and delivers the rest', async () => {
      // Prepare: a detail just over the limit once the entry's source, type and time count.
      const bus = await setup();
      const results = await bus.rule('soccer', { 'detail-type': ['MatchRecorded'] });
      const small = matchResult(10);
      const large = matchResult(11, { venue: 'x'.repeat(262_144) });

      // Act
      const published = await bus.publisher.publish([busEntryOf(small), busEntryOf(large)]);

      // Assess
      expect(published).toEqual({ published: 2, deadLettered: 0 });
      const { data: _data, ...claimed } = large;
      const byId = new Map(
        (await results.take()).map((e) => [(e.detail as EventEnvelope).event_id, e.detail]),
      );
      expect(byId.get(small.event_id)).toEqual(small);
      expect(byId.get(large.event_id)).toEqual({ ...claimed, claim_check: true });
      expect(await bus.deadLetters()).toEqual([]);
    });

    it('dead-letters an entry over the limit even as a claim check with why, never delivering or dropping it', async () => {
      // Prepare: an envelope whose own fields pass the limit.
      const bus = await setup();
      const results = await bus.rule('soccer', { 'detail-type': ['MatchRecorded'] });
      const small = matchResult(12);
      const large = { ...matchResult(13), correlation_id: 'x'.repeat(262_144) };
      const { data: _data, ...claimed } = large;

      // Act
      const published = await bus.publisher.publish([busEntryOf(small), busEntryOf(large)]);

      // Assess
      expect(published).toEqual({ published: 1, deadLettered: 1 });
      expect((await results.take()).map((e) => (e.detail as EventEnvelope).event_id)).toEqual([
        small.event_id,
      ]);
      const letters = await bus.deadLetters();
      expect(letters).toHaveLength(1);
      expect(letters[0]?.consumer).toMatch(/^publish:.+-soccer$/);
      expect(letters[0]?.event).toEqual({
        EventBusName: letters[0]?.consumer.slice('publish:'.length),
        Source: 'matchstream.soccer',
        DetailType: 'MatchRecorded',
        Detail: JSON.stringify({ ...claimed, claim_check: true }),
        Time: large.timestamp,
      });
      expect(letters[0]?.error).toMatch(
        /^EntryTooLarge: the entry is \d+ bytes, over the 262144-byte limit$/,
      );
    });
  });
}
