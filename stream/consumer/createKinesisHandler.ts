import type { EventEnvelope } from '../EventEnvelope.js';
import type { CommitCodec } from '../eventStore/Commit.js';
import type { AggregateSequencer, Delivery } from './AggregateSequencer.js';
import { ConsumerError } from './ConsumerError.js';
import { decodeRecord } from './decodeRecord.js';
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
  /** Told about the record a batch stopped at and why (the local runtime dead-letters with it). */
  readonly onFailure?: (record: KinesisStreamRecord, error: unknown) => void;
  /** Told about each delivery (for counters). */
  readonly onDelivery?: (delivery: Delivery, events: readonly EventEnvelope[]) => void;
}

/**
 * A function for a Kinesis event source mapping with `ReportBatchItemFailures`: the same code
 * runs as a Lambda handler and under the local runtime. Records are processed in order;
 * at the first one that fails, processing stops and its sequence number is reported, so the
 * mapping checkpoints before it and retries from it (what came before is not redone).
 */
export function createKinesisHandler(
  options: KinesisHandlerOptions,
): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  const { consumer, codec, sequencer } = options;
  return async (event) => {
    for (const record of event.Records) {
      try {
        const decoded = decodeRecord(record);
        if (!decoded.commit) continue; // a removal: nothing to apply
        const events = codec.envelopes(decoded.commit);
        const delivery = await sequencer.deliver(events);
        options.onDelivery?.(delivery, events);
      } catch (error) {
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
        return { batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] };
      }
    }
    return { batchItemFailures: [] };
  };
}
