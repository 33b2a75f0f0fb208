import type { SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import type { EventEnvelope, NewEvent } from '../EventEnvelope.js';
import { ConcurrencyError } from '../StoreError.js';
import { type Commit, CommitCodec } from './Commit.js';
import type { AppendResult, EventStore, ReadAllOptions, ReadOptions } from './EventStore.js';
import { commitOverlaps, readAllFilter, readFilter } from './filters.js';

const BATCH = 500;

/**
 * The event store in process memory, with exactly the semantics of the DynamoDB adapter
 * (commits, encoding, concurrency, idempotency, size limit): for tests and for in-process
 * runs that keep nothing.
 */
export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, Commit[]>();
  private readonly codec: CommitCodec;

  constructor(registry: SchemaRegistry, now?: () => Date) {
    this.codec = new CommitCodec(registry, now);
  }

  async append(
    aggregateId: string,
    expectedVersion: number,
    events: readonly NewEvent[],
  ): Promise<AppendResult> {
    const commit = this.codec.build(aggregateId, expectedVersion, events);
    const stream = this.streams.get(aggregateId) ?? [];
    const version = stream.at(-1)?.last_sequence ?? 0;
    if (version !== expectedVersion) {
      const repeat = this.codec.repeated(
        commit,
        stream.find((c) => c.sequence === commit.sequence),
      );
      if (repeat) return repeat;
      throw new ConcurrencyError(aggregateId, expectedVersion, version);
    }
    stream.push(commit);
    this.streams.set(aggregateId, stream);
    return {
      aggregateId,
      version: commit.last_sequence,
      events: this.codec.envelopes(commit),
      duplicate: false,
    };
  }

  /** A stream's commits as stored (encoded), for tools and tests that need the raw form. */
  commitsOf(aggregateId: string): readonly Commit[] {
    return this.streams.get(aggregateId) ?? [];
  }

  async read(aggregateId: string, options: ReadOptions = {}): Promise<EventEnvelope[]> {
    const keep = readFilter(options);
    return (this.streams.get(aggregateId) ?? [])
      .filter((c) => commitOverlaps(c, options))
      .flatMap((c) => this.codec.envelopes(c, keep, options.unreadable));
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<EventEnvelope[]> {
    const keep = readAllFilter(options);
    const ids = options.aggregateIds ?? [...this.streams.keys()];
    let batch: EventEnvelope[] = [];
    for (const id of ids) {
      for (const commit of this.streams.get(id) ?? []) {
        batch.push(...this.codec.envelopes(commit, keep, options.unreadable));
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  }
}
