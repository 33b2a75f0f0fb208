import { describe, expect, it } from 'vitest';
import { computeRpiVariant } from '../../domain/rpi/computeRpiVariant.js';
import { resolveProfile } from '../../domain/rpi/RpiProfile.js';
import { generateSeason } from '../../domain/season/generateSeason.js';
import { rpiCalculated } from '../../sagas/rpi/rpiCalculation.js';
import { SchemaError } from '../../schemas/SchemaError.js';
import type { NewEvent, NewEventOf } from '../../stream/EventEnvelope.js';
import type { Commit } from '../../stream/eventStore/Commit.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { ConcurrencyError, StoreError } from '../../stream/StoreError.js';
import { unchecked } from '../support/envelopes.js';
import { latestVersion, matchRecorded, registry, teamRegistered } from '../support/registry.js';

/** What the contract needs of an adapter under test. */
export interface StoreUnderTest {
  readonly store: EventStore;
  /** Writes a commit as stored, bypassing `append` (to plant old schema versions). */
  plant(commit: Commit): Promise<void>;
}

let counter = 0;
/** A stream id no other test of the run uses (adapters may share one table). */
function streamId(prefix: string): string {
  counter++;
  return `${prefix}:${process.pid}-${Date.now().toString(36)}-${counter}`;
}

function recorded(
  matchId: string,
  extra: Omit<NewEventOf<'MatchRecorded'>, 'event_type' | 'data'> = {},
): NewEvent {
  return { event_type: 'MatchRecorded', data: matchRecorded(matchId), ...extra };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * The event store contract: every adapter (in memory, DynamoDB on dynalite, DynamoDB on moto)
 * must pass exactly these tests.
 */
export function eventStoreContract(name: string, setup: () => StoreUnderTest): void {
  describe(`EventStore contract: ${name}`, () => {
    it('appends to a new stream and reads the events back in order, at the latest schema version', async () => {
      // Prepare
      const { store } = setup();
      const id = streamId('match');

      // Act
      const result = await store.append(id, 0, [
        recorded('m1', {
          event_id: '6f9619ff-8b86-4011-b42d-00c04fc964ff',
          correlation_id: 'run-1',
        }),
        {
          event_type: 'MatchResultCorrected',
          data: { ...matchRecorded('m1', 1, 1), reason: 'typo' },
        },
      ]);
      const events = await store.read(id);

      // Assess
      expect(result).toMatchObject({ aggregateId: id, version: 2, duplicate: false });
      expect(events.map((e) => [e.sequence, e.event_type, e.version])).toEqual([
        [1, 'MatchRecorded', latestVersion('MatchRecorded')],
        [2, 'MatchResultCorrected', latestVersion('MatchResultCorrected')],
      ]);
      expect(events[0]).toMatchObject({
        event_id: '6f9619ff-8b86-4011-b42d-00c04fc964ff',
        aggregate_id: id,
        correlation_id: 'run-1',
        causation_id: null,
        data: matchRecorded('m1'),
      });
      expect(events[1]?.data).toMatchObject({ home_goals: 1, away_goals: 1, reason: 'typo' });
      expect(Date.parse(events[0]?.timestamp ?? '')).not.toBeNaN();
      expect(result.events).toEqual(events);
    });

    it('continues a stream after its version', async () => {
      const { store } = setup();
      const id = streamId('match');
      await store.append(id, 0, [recorded('m1'), recorded('m1')]);

      const result = await store.append(id, 2, [recorded('m1')]);

      expect(result.version).toBe(3);
      expect((await store.read(id)).map((e) => e.sequence)).toEqual([1, 2, 3]);
    });

    it('refuses a stale expected version with a ConcurrencyError naming both versions', async () => {
      const { store } = setup();
      const id = streamId('match');
      await store.append(id, 0, [recorded('m1')]);

      const error = await rejection(store.append(id, 0, [recorded('m1')]));

      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ code: 'CONCURRENCY', aggregateId: id, expected: 0, actual: 1 });
      expect(String(error)).toContain(`stream ${id} is at version 1, not the expected 0`);
    });

    it('refuses an expected version ahead of the stream', async () => {
      const { store } = setup();
      const id = streamId('match');
      await store.append(id, 0, [recorded('m1')]);

      await expect(store.append(id, 5, [recorded('m1')])).rejects.toMatchObject({
        expected: 5,
        actual: 1,
      });
      await expect(store.append(streamId('match'), 1, [recorded('m1')])).rejects.toMatchObject({
        expected: 1,
        actual: 0,
      });
    });

    it('refuses an expected version inside an earlier multi-event append, writing nothing', async () => {
      const { store } = setup();
      const id = streamId('match');
      await store.append(id, 0, [recorded('m1'), recorded('m1'), recorded('m1')]);

      await expect(store.append(id, 1, [recorded('m1')])).rejects.toMatchObject({
        expected: 1,
        actual: 3,
      });

      expect(await store.read(id)).toHaveLength(3);
    });

    it('lets exactly one of many racing appends at the same version win', async () => {
      const { store } = setup();
      const id = streamId('match');

      const results = await Promise.allSettled(
        Array.from({ length: 12 }, () => store.append(id, 0, [recorded('m1'), recorded('m1')])),
      );

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrencyError);
      }
      expect(await store.read(id)).toHaveLength(2);
    });

    it('recognises a retried append by its event ids and does not store it twice', async () => {
      const { store } = setup();
      const id = streamId('match');
      const events = [
        recorded('m1', { event_id: '11111111-1111-4111-8111-111111111111' }),
        recorded('m1', { event_id: '22222222-2222-4222-8222-222222222222' }),
      ];
      const first = await store.append(id, 0, events);
      await store.append(id, 2, [recorded('m1')]);

      const retry = await store.append(id, 0, events);

      expect(retry).toMatchObject({ duplicate: true, version: 2 });
      expect(retry.events.map((e) => e.event_id)).toEqual(first.events.map((e) => e.event_id));
      expect(await store.read(id)).toHaveLength(3);
      // Different ids at a taken position are a conflict, not a duplicate.
      await expect(store.append(id, 0, [recorded('m1')])).rejects.toBeInstanceOf(ConcurrencyError);
    });

    it('refuses an append over 400 KB before writing anything', async () => {
      const { store } = setup();
      const id = streamId('team');
      const big = Array.from({ length: 50 }, (_, i) => ({
        event_type: 'TeamRegistered' as const,
        data: teamRegistered(`${'x'.repeat(9000)}${i}`),
      }));

      const error = await rejection(store.append(id, 0, big));

      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({
        code: 'ITEM_TOO_LARGE',
        context: { aggregateId: id, sequence: 1 },
      });
      expect(String(error)).toMatch(/takes \d+ bytes; DynamoDB items hold at most 409600/);
      expect(await store.read(id)).toEqual([]);
    });

    it('stores an event whose data passes 400 KB as Avro gzipped, and reads it back whole', async () => {
      const { store } = setup();
      // A calculation of 6,000 teams: about 80 bytes a team as Avro.
      const { games } = generateSeason({ teams: 6000, gamesPerTeam: 2, seed: 11 });
      const result = computeRpiVariant(games, {
        profile: resolveProfile('ncaa-soccer-2024'),
        season: '2026',
        variant: 'unadjusted',
      });
      const calculationId = '6b0f3f4e-2d4c-5a55-9d0e-000000000006';
      const event = rpiCalculated(result, calculationId, new Date('2026-11-01T12:00:00Z'), {
        division: null,
        games,
      });
      const avro = registry.encode('RpiCalculated', event.data);
      expect(avro.bytes.byteLength).toBeGreaterThan(409_600);

      const appended = await store.append(`rpi:${calculationId}`, 0, [event]);
      const [read] = await store.read(`rpi:${calculationId}`);

      expect(appended.version).toBe(1);
      expect(read?.event_type).toBe('RpiCalculated');
      expect(read?.data).toEqual(appended.events[0]?.data);
      expect(read?.event_type === 'RpiCalculated' && read.data.rankings).toHaveLength(6000);
    });

    it('refuses empty appends, bad versions, unknown event types and invalid data', async () => {
      const { store } = setup();
      const id = streamId('match');

      await expect(store.append(id, 0, [])).rejects.toMatchObject({ code: 'INVALID_APPEND' });
      await expect(store.append(id, -1, [recorded('m1')])).rejects.toMatchObject({
        code: 'INVALID_APPEND',
      });
      await expect(store.append('', 0, [recorded('m1')])).rejects.toMatchObject({
        code: 'INVALID_APPEND',
      });
      const unknown = await rejection(
        store.append(id, 0, [unchecked({ event_type: 'MatchPostponed', data: {} })]),
      );
      expect(unknown).toBeInstanceOf(SchemaError);
      expect(unknown).toMatchObject({ code: 'UNKNOWN_EVENT_TYPE' });
      await expect(
        store.append(id, 0, [
          unchecked({
            event_type: 'MatchRecorded',
            data: { ...matchRecorded('m1'), home_goals: 'two' },
          }),
        ]),
      ).rejects.toMatchObject({
        code: 'INVALID_DATA',
        message: expect.stringContaining('home_goals'),
      });
      expect(await store.read(id)).toEqual([]);
    });

    it('reads a range of sequences, also from inside a multi-event append', async () => {
      const { store } = setup();
      const id = streamId('match');
      await store.append(id, 0, [recorded('m1'), recorded('m1'), recorded('m1')]);
      await store.append(id, 3, [recorded('m1'), recorded('m1')]);

      const seqs = async (options: { fromSequence?: number; toSequence?: number }) =>
        (await store.read(id, options)).map((e) => e.sequence);

      expect(await seqs({ fromSequence: 2 })).toEqual([2, 3, 4, 5]);
      expect(await seqs({ fromSequence: 2, toSequence: 4 })).toEqual([2, 3, 4]);
      expect(await seqs({ fromSequence: 4 })).toEqual([4, 5]);
      expect(await seqs({ toSequence: 1 })).toEqual([1]);
      expect(await seqs({ fromSequence: 6 })).toEqual([]);
      expect(await store.read(streamId('match'))).toEqual([]);
    });

    it('reads to the end of a stream given an open end (Infinity)', async () => {
      const { store } = setup();
      const id = streamId('match');
      await store.append(id, 0, [recorded('m1'), recorded('m1'), recorded('m1')]);

      const seqs = async (options: { fromSequence?: number; toSequence?: number }) =>
        (await store.read(id, options)).map((e) => e.sequence);

      expect(await seqs({ fromSequence: 2, toSequence: Number.POSITIVE_INFINITY })).toEqual([2, 3]);
      expect(await seqs({ toSequence: Number.POSITIVE_INFINITY })).toEqual([1, 2, 3]);
    });

    it('reads a stream as of an instant', async () => {
      const { store } = setup();
      const id = streamId('match');
      await store.append(id, 0, [recorded('m1', { timestamp: '2026-09-01T12:00:00Z' })]);
      await store.append(id, 1, [recorded('m1', { timestamp: '2026-09-08T12:00:00Z' })]);

      const asOf = await store.read(id, { asOf: '2026-09-05T00:00:00Z' });

      expect(asOf.map((e) => e.timestamp)).toEqual(['2026-09-01T12:00:00.000Z']);
    });

    it('reads every event of every stream exactly once with readAll, in any number of segments', async () => {
      const { store } = setup();
      const tag = streamId('bulk');
      const ids = Array.from({ length: 60 }, (_, i) => `${tag}-${i}`);
      await Promise.all(
        ids.map((id, i) =>
          store.append(
            id,
            0,
            Array.from({ length: 1 + (i % 3) }, () => recorded(id)),
          ),
        ),
      );
      const mine = <E extends { aggregate_id: string }>(events: E[]) =>
        events.filter((e) => e.aggregate_id.startsWith(`${tag}-`));

      for (const segments of [1, 4, 7]) {
        const seen: string[] = [];
        for await (const batch of store.readAll({ segments })) {
          seen.push(...mine(batch).map((e) => `${e.aggregate_id}#${e.sequence}`));
        }
        expect(seen).toHaveLength(120);
        expect(new Set(seen).size).toBe(120);
      }
    });

    it('filters readAll by aggregate, event type and time', async () => {
      const { store } = setup();
      const a = streamId('match');
      const b = streamId('team');
      await store.append(a, 0, [recorded('m1', { timestamp: '2026-09-01T00:00:00Z' })]);
      await store.append(b, 0, [
        {
          event_type: 'TeamRegistered',
          data: teamRegistered('A'),
          timestamp: '2026-09-02T00:00:00Z',
        },
      ]);

      const collect = async (options: Parameters<EventStore['readAll']>[0]) => {
        const out: string[] = [];
        for await (const batch of store.readAll(options))
          out.push(...batch.map((e) => `${e.aggregate_id}:${e.event_type}`));
        return out.filter((s) => s.startsWith(a) || s.startsWith(b));
      };

      expect(await collect({ aggregateIds: [a, b] })).toEqual([
        `${a}:MatchRecorded`,
        `${b}:TeamRegistered`,
      ]);
      expect(await collect({ aggregateIds: [a, b], eventTypes: ['TeamRegistered'] })).toEqual([
        `${b}:TeamRegistered`,
      ]);
      expect(
        await collect({
          eventTypes: ['TeamRegistered'],
          from: '2026-09-02T00:00:00Z',
          to: '2026-09-02T00:00:00Z',
        }),
      ).toEqual([`${b}:TeamRegistered`]);
    });

    it('reads events stored with an old schema version at the latest version (upcast)', async () => {
      // Prepare: a MatchRecorded v1 commit, as written before v2 existed.
      const { store, plant } = setup();
      const id = streamId('match');
      const v1 = registry.encode(
        'MatchRecorded',
        { match_id: 'm1', home_team: 'A', away_team: 'B', score: '3-2' },
        1,
      );
      await plant({
        aggregate_id: id,
        sequence: 1,
        last_sequence: 1,
        committed_at: '2019-10-05T18:00:00.000Z',
        events: [
          {
            event_id: '33333333-3333-4333-8333-333333333333',
            event_type: 'MatchRecorded',
            version: 1,
            fingerprint: v1.fingerprint,
            data: v1.bytes,
            timestamp: '2019-10-05T18:00:00.000Z',
            correlation_id: 'legacy',
            causation_id: null,
          },
        ],
      });

      // Act
      const [event] = await store.read(id);

      // Assess
      expect(event).toMatchObject({
        version: latestVersion('MatchRecorded'),
        data: {
          match_id: 'm1',
          season: '2019',
          played_on: '2019-10-05',
          home_goals: 3,
          away_goals: 2,
          neutral: false,
          decided_by: 'regulation',
          venue: null,
        },
      });
      // And the stream continues after it.
      await expect(store.append(id, 1, [recorded('m1')])).resolves.toMatchObject({ version: 2 });
    });

    it('names the event and fingerprint when stored bytes cannot be decoded', async () => {
      const { store, plant } = setup();
      const id = streamId('match');
      const good = registry.encode('MatchRecorded', matchRecorded('m1'));
      const event = {
        event_id: '44444444-4444-4444-8444-444444444444',
        event_type: 'MatchRecorded',
        version: 2,
        fingerprint: good.fingerprint,
        data: Buffer.from([0xff, 0xff, 0xff]),
        timestamp: '2026-09-01T00:00:00.000Z',
        correlation_id: 'x',
        causation_id: null,
      };
      await plant({
        aggregate_id: id,
        sequence: 1,
        last_sequence: 1,
        committed_at: event.timestamp,
        events: [event],
      });

      const error = await rejection(store.read(id));

      expect(error).toBeInstanceOf(SchemaError);
      expect(error).toMatchObject({ code: 'CORRUPT_DATA' });
      expect(String(error)).toContain(
        'event 44444444-4444-4444-8444-444444444444, type MatchRecorded',
      );
      expect(String(error)).toContain(`fingerprint ${good.fingerprint.slice(0, 16)}`);
    });
  });
}
