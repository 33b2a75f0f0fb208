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
    const delivery = await sequencer.deliverAll(commits);
    options.onDelivery?.(delivery, commits.flat());
    return { batchItemFailures: failed ? [{ itemIdentifier: failed.kinesis.sequenceNumber }] : [] };
  };
}
