/**
 * Many writers on one aggregate: each reads the stream's version and appends its change at
 * that version; the store refuses all but one append per version (a conditional put), and
 * every refused writer gets a `ConcurrencyError`, reads again and retries. At the end every
 * change is in the stream exactly once, in a gapless sequence: no update lost, none twice.
 * Several such streams race side by side for volume (each with its own writers).
 */
import { SchemaRegistry } from '../schemas/SchemaRegistry.js';
import { dynamoClient } from '../stream/aws/dynamoClient.js';
import { DynamoEventStore } from '../stream/eventStore/DynamoEventStore.js';
import { ensureEventsTable } from '../stream/eventStore/eventsTable.js';
import { startEmbeddedDynamo } from '../stream/local/embeddedDynamo.js';
import { ConcurrencyError } from '../stream/StoreError.js';
import { type Rng, seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface ConcurrencyOptions {
  readonly seed: number;
  /** Writers racing on the one stream. */
  readonly writers: number;
  /** Changes each writer makes. */
  readonly changes: number;
  /** Streams raced on at once, each by `writers` writers. @default 1 */
  readonly streams?: number;
}

/** The contested streams: `team:Contested State`, then `team:Contested State 2`, ... */
const streamName = (i: number) => `team:Contested State${i === 0 ? '' : ` ${i + 1}`}`;

/** What the writers of one stream left in it. */
interface StreamOutcome {
  readonly lost: number;
  readonly duplicated: number;
  readonly gaps: number;
  readonly changes: number;
  readonly finalVersion: number;
}

export async function concurrencyScenario(options: ConcurrencyOptions): Promise<ScenarioResult> {
  const rng: Rng = seededRng(options.seed);
  const dynamo = await startEmbeddedDynamo();
  const client = dynamoClient({ endpoint: dynamo.endpoint, maxSockets: options.writers * 2 });
  try {
    await ensureEventsTable(client, 'chaos-events');
    const store = new DynamoEventStore({
      client,
      table: 'chaos-events',
      registry: SchemaRegistry.fromDirectory(),
    });
    const counts = { conflicts: 0, otherErrors: 0 };
    const outcomes = await Promise.all(
      Array.from({ length: options.streams ?? 1 }, (_, i) =>
        race(store, streamName(i), options, rng, counts),
      ),
    );
    const total = (key: keyof StreamOutcome) => outcomes.reduce((n, o) => n + o[key], 0);
    const wanted = options.writers * options.changes * outcomes.length;
    return {
      scenario: 'concurrent-writers',
      seed: options.seed,
      passed:
        total('lost') === 0 &&
        total('duplicated') === 0 &&
        total('gaps') === 0 &&
        counts.conflicts > 0,
      events_in: wanted,
      events_applied: total('changes'),
      rejected: 0,
      dead_lettered: 0,
      lost: total('lost'),
      duplicated: total('duplicated'),
      divergences: total('gaps'),
      // The races lost are the faults: every one a refused append, read again and retried.
      faults_injected: counts.conflicts,
      details: {
        streams: outcomes.length,
        writers: options.writers,
        changes_each: options.changes,
        concurrency_errors_retried: counts.conflicts,
        other_errors_retried: counts.otherErrors,
        final_versions: [...new Set(outcomes.map((o) => o.finalVersion))],
      },
    };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

/** `writers` writers race on one stream, each appending `changes` changes at the version it read. */
async function race(
  store: DynamoEventStore,
  stream: string,
  options: ConcurrencyOptions,
  rng: Rng,
  counts: { conflicts: number; otherErrors: number },
): Promise<StreamOutcome> {
  await store.append(stream, 0, [
    {
      event_type: 'TeamRegistered',
      data: { team_id: stream, name: stream, conference: null, division: null, region: null },
    },
  ]);
  await Promise.all(
    Array.from({ length: options.writers }, async (_, w) => {
      for (let k = 0; k < options.changes; k++) {
        for (;;) {
          const version = await store.version(stream);
          // A seeded pause between the read and the write widens the race.
          if (rng() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(rng() * 3)));
          try {
            await store.append(stream, version, [
              {
                event_type: 'TeamMetadataUpdated',
                data: {
                  team_id: stream,
                  name: null,
                  conference: `w${w}-c${k}`,
                  division: null,
                  region: null,
                },
              },
            ]);
            break;
          } catch (error) {
            if (error instanceof ConcurrencyError) counts.conflicts++;
            else counts.otherErrors++;
            if (counts.otherErrors > 100) throw error;
          }
        }
      }
    }),
  );
  const events = await store.read(stream);
  const labels = events
    .slice(1)
    .map((e) =>
      e.event_type === 'TeamMetadataUpdated' ? String(e.data.conference) : e.event_type,
    );
  const wanted = new Set(
    Array.from(
      { length: options.writers * options.changes },
      (_, i) => `w${Math.floor(i / options.changes)}-c${i % options.changes}`,
    ),
  );
  const seen = new Map<string, number>();
  for (const l of labels) seen.set(l, (seen.get(l) ?? 0) + 1);
  return {
    lost: [...wanted].filter((l) => !seen.has(l)).length,
    duplicated: [...seen.values()].reduce((n, c) => n + (c - 1), 0),
    gaps: events.filter((e, i) => e.sequence !== i + 1).length,
    changes: labels.length,
    finalVersion: events.at(-1)?.sequence ?? 0,
  };
}
