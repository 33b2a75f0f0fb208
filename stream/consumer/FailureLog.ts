import type { DependencyUnavailable } from '../breaker/DependencyUnavailable.js';
import type { KinesisStreamRecord } from './kinesisEvent.js';

/**
 * Why a handler reported a record as failed. The Lambda contract carries only the record's
 * sequence number; the local runtime wants the reason too, for the dead letter.
 */
export class FailureLog {
  private readonly reasons = new Map<string, string>();
  private readonly holds = new Map<string, DependencyUnavailable>();

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

  /** For `createKinesisHandler({ onHeld })`: the record was held back by an open breaker. */
  readonly hold = (record: KinesisStreamRecord, held: DependencyUnavailable): void => {
    this.holds.set(record.kinesis.sequenceNumber, held);
  };

  /** The hold noted for a record, if it was held rather than failed (and forgets it). */
  takeHold(sequenceNumber: string): DependencyUnavailable | undefined {
    const held = this.holds.get(sequenceNumber);
    this.holds.delete(sequenceNumber);
    return held;
  }
}
