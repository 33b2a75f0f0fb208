/**
 * Many writers on one aggregate: each reads the stream's version and appends its change at
 * that version; the store refuses all but one append per version (a conditional put), and
 * every refused writer gets a `ConcurrencyError`, reads again and retries. At the end every
 * change is in the stream exactly once, in a gapless sequence: no update lost, none twice.
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
}

const STREAM = 'team:Contested State';

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
    await store.append(STREAM, 0, [
      {
        event_type: 'TeamRegistered',
        data: { team_id: STREAM, name: STREAM, conference: null, division: null, region: null },
      },
    ]);
    let conflicts = 0;
    let otherErrors = 0;
    await Promise.all(
      Array.from({ length: options.writers }, async (_, w) => {
        for (let k = 0; k < options.changes; k++) {
          for (;;) {
            const version = await store.version(STREAM);
            // A seeded pause between the read and the write widens the race.
            if (rng() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(rng() * 3)));
            try {
              await store.append(STREAM, version, [
                {
                  event_type: 'TeamMetadataUpdated',
                  data: {
                    team_id: STREAM,
                    name: null,
                    conference: `w${w}-c${k}`,
                    division: null,
                    region: null,
                  },
                },
              ]);
              break;
            } catch (error) {
              if (error instanceof ConcurrencyError) conflicts++;
              else otherErrors++;
              if (otherErrors > 100) throw error;
            }
          }
        }
      }),
    );
    const events = await store.read(STREAM);
    const labels = events
      .slice(1)
      .map((e) =>
        e.event_type === 'TeamMetadataUpdated' ? String(e.data.conference) : e.event_type,
      );
    const wanted = new Set(
      Array.from({ length: options.writers * options.changes }, (_, i) => {
        return `w${Math.floor(i / options.changes)}-c${i % options.changes}`;
      }),
    );
    const seen = new Map<string, number>();
    for (const l of labels) seen.set(l, (seen.get(l) ?? 0) + 1);
    const lost = [...wanted].filter((l) => !seen.has(l)).length;
    const duplicated = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
    const gaps = events.filter((e, i) => e.sequence !== i + 1).length;
    return {
      scenario: 'concurrent-writers',
      seed: options.seed,
      passed: lost === 0 && duplicated === 0 && gaps === 0 && conflicts > 0,
      events_in: wanted.size,
      events_applied: labels.length,
      rejected: 0,
      dead_lettered: 0,
      lost,
      duplicated,
      divergences: gaps,
      details: {
        writers: options.writers,
        changes_each: options.changes,
        concurrency_errors_retried: conflicts,
        other_errors_retried: otherErrors,
        final_version: events.at(-1)?.sequence ?? 0,
      },
    };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}
