import { type DependencyUnavailable, heldBy } from '../breaker/DependencyUnavailable.js';
import type { EventEnvelope } from '../EventEnvelope.js';
import type { CommitCodec } from '../eventStore/Commit.js';
import type { AggregateSequencer, Delivery } from './AggregateSequencer.js';
import { ConsumerError } from './ConsumerError.js';
import { commitOfRecord } from './decodeRecord.js';
import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from './kinesisEvent.js';

export interface KinesisHandlerOptions {
  readonly consumer: string;
  /** Decodes stored commits (schema registry and upcasters). */
  readonly codec: CommitCodec;
  readonly sequencer: AggregateSequencer;
  /** Told about a record that cannot be read, and why (the local runtime dead-letters with it). */
  readonly onFailure?: (record: KinesisStreamRecord, error: unknown) => void;
  /**
   * Told that the batch was held: a breaker around a dependency of the effect is open (see
   * `DependencyUnavailable`). The batch's first record is reported as failed, so the mapping
   * keeps the whole batch in the stream and retries it; the local runtime does not count such
   * a retry as an attempt.
   */
  readonly onHeld?: (record: KinesisStreamRecord, held: DependencyUnavailable) => void;
  /**
   * How long the handler may wait, itself, for an open breaker's trial before it reports the
   * batch held: on Lambda the invocation's remaining time less a margin, so that a batch is
   * retried (and counted as a retry) once per invocation at most, not once per breaker
   * cool-down. @default none: report the hold at once
   */
  readonly holdWithinMs?: () => number;
  /** Told about each delivery (for counters). */
  readonly onDelivery?: (delivery: Delivery, events: readonly EventEnvelope[]) => void;
}

/**
 * A function for a Kinesis event source mapping with `ReportBatchItemFailures` and bisect on
 * error: the same code runs as a Lambda handler and under the local runtime.
 *
 * The records are read in order and the events of all of them delivered at once (one read and
 * one write of positions, one effect, per batch). A record that cannot be read (not a change
 * record, an unknown schema, corrupt Avro) stops the batch there: what came before is
 * delivered, and that record is reported, so the mapping checkpoints before it and retries from
 * it. An effect that fails throws: the mapping bisects the batch to find the record at fault.
 */
export function createKinesisHandler(
  options: KinesisHandlerOptions,
): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  const { consumer, codec, sequencer } = options;
  return async (event) => {
    const commits: EventEnvelope[][] = [];
    let failed: KinesisStreamRecord | undefined;
    for (const record of event.Records) {
      try {
        const commit = commitOfRecord(record);
        if (commit) commits.push(codec.envelopes(commit));
      } catch (error) {
        failed = record;
        options.onFailure?.(
          record,
          error instanceof ConsumerError
            ? error
            : new ConsumerError(
                'HANDLER_FAILED',
                error instanceof Error ? error.message : String(error),
                { consumer, sequenceNumber: record.kinesis.sequenceNumber },
                { cause: error },
              ),
        );
        break;
      }
    }
    let delivery: Delivery;
    for (;;) {
      try {
        delivery = await sequencer.deliverAll(commits);
        break;
      } catch (error) {
        const held = heldBy(error);
        const first = event.Records[0];
        if (!held || !first) throw error;
        // Positions make a second delivery of what the first applied a duplicate: the whole
        // batch goes again, at the trial time or in the mapping's retry.
        const wait = Math.max(0, held.retryAt - Date.now());
        if (options.holdWithinMs && wait < options.holdWithinMs()) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        options.onHeld?.(first, held);
        return { batchItemFailures: [{ itemIdentifier: first.kinesis.sequenceNumber }] };
      }
    }
    if (options.onDelivery) {
      const events: EventEnvelope[] = [];
      for (const commit of commits) for (const event of commit) events.push(event);
      options.onDelivery(delivery, events);
    }
    return { batchItemFailures: failed ? [{ itemIdentifier: failed.kinesis.sequenceNumber }] : [] };
  };
}
