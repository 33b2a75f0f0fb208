import type { KinesisStreamRecord } from './kinesisEvent.js';

/**
 * Why a handler reported a record as failed. The Lambda contract carries only the record's
 * sequence number; the local runtime wants the reason too, for the dead letter.
 */
export class FailureLog {
  private readonly reasons = new Map<string, string>();

  /** For `createKinesisHandler({ onFailure })`. */
  readonly note = (record: KinesisStreamRecord, error: unknown): void => {
    this.reasons.set(
      record.kinesis.sequenceNumber,
      error instanceof Error ? error.message : String(error),
    );
  };

  /** The reason noted for a record (and forgets it). */
  take(sequenceNumber: string): string | undefined {
    const reason = this.reasons.get(sequenceNumber);
    this.reasons.delete(sequenceNumber);
    return reason;
  }
}
