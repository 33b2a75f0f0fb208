import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { READ_MODELS } from '../../../pipeline/readModels.js';
import { InMemoryDocumentStore } from '../../../projections/DocumentStore.js';
import { Projector } from '../../../projections/Projector.js';
import type { EventEnvelope } from '../../../stream/EventEnvelope.js';
import { envelope, result } from '../../support/envelopes.js';
import { teamRegistered } from '../../support/registry.js';

const TEAMS = ['A', 'B', 'C', 'D', 'E'];

/** A random history of match streams (recorded, then corrections or a cancellation) and teams. */
const historyArb = fc
  .array(
    fc.record({
      home: fc.integer({ min: 0, max: 4 }),
      away: fc.integer({ min: 1, max: 4 }),
      goals: fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), {
        minLength: 1,
        maxLength: 3,
      }),
      cancel: fc.boolean(),
      day: fc.integer({ min: 1, max: 9 }),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((matches) => {
    const streams: EventEnvelope[][] = TEAMS.map((t) => [
      envelope('TeamRegistered', `team:${t}`, 1, teamRegistered(t)),
    ]);
    matches.forEach((m, i) => {
      const home = TEAMS[m.home] ?? 'A';
      const away = TEAMS[(m.home + m.away) % TEAMS.length] ?? 'B';
      const events = m.goals.map(([h, a], k) =>
        result(`m${i}`, `${home} ${h}-${a} ${away}`, {
          sequence: k + 1,
          corrected: k > 0,
          playedOn: `2026-09-0${m.day}`,
        }),
      );
      if (m.cancel)
        events.push(
          envelope('MatchCancelled', `match:m${i}`, events.length + 1, {
            match_id: `m${i}`,
            reason: null,
          }),
        );
      streams.push(events);
    });
    return streams;
  });

async function applySequentially(streams: EventEnvelope[][]) {
  const stores = READ_MODELS.map(() => new InMemoryDocumentStore());
  for (const [i, projection] of READ_MODELS.entries()) {
    const projector = new Projector(projection, stores[i] as InMemoryDocumentStore);
    for (const events of streams) await projector.apply(events);
  }
  return stores.map((s) => s.all());
}

describe('read models under concurrent shards', () => {
  it('end in the same state whether the streams are applied one by one or by two shards at once', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, fc.integer({ min: 1, max: 4 }), async (streams, batchSize) => {
        const expected = await applySequentially(streams);

        // Two shards: each stream on one of them, batches interleaved and applied concurrently.
        const stores = READ_MODELS.map(() => new InMemoryDocumentStore());
        const shards: EventEnvelope[][] = [[], []];
        for (const [i, events] of streams.entries()) shards[i % 2]?.push(...events);
        await Promise.all(
          READ_MODELS.map(async (projection, m) => {
            const projector = new Projector(projection, stores[m] as InMemoryDocumentStore);
            await Promise.all(
              shards.map(async (shard) => {
                for (let i = 0; i < shard.length; i += batchSize)
                  await projector.apply(shard.slice(i, i + batchSize));
              }),
            );
          }),
        );

        expect(stores.map((s) => s.all())).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});
