import type {
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from '../stream/consumer/kinesisEvent.js';

/** What the mapping did: invocations, and the batches it retried or gave up on. */
export interface MappingStats {
  invocations: number;
  /** Invocations that threw: the whole batch again. */
  thrown: number;
  /** Invocations that reported a record (`batchItemFailures`): again from that record. */
  partial: number;
  /** Records of batches still failing after `MAPPING_ATTEMPTS` (they count as lost). */
  given_up: number;
}

export interface MappingOptions {
  /** Records per invocation (the mapping's `BatchSize`). */
  readonly batchSize: number;
  readonly log?: (line: string) => void;
}

/** How often the mapping invokes the function with a batch before giving up on it. */
export const MAPPING_ATTEMPTS = 30;

/**
 * Hands one shard's records to a Kinesis handler as Lambda's event source mapping does with
 * `ReportBatchItemFailures`: in batches, a batch retried whole when the function throws and
 * from the reported record on after `batchItemFailures`, until it succeeds or has been tried
 * `MAPPING_ATTEMPTS` times.
 *
 * @example
 * const stats = await asEventSourceMapping(records, handler, { batchSize: 100 });
 */
export async function asEventSourceMapping(
  records: readonly KinesisStreamRecord[],
  handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>,
  options: MappingOptions,
): Promise<MappingStats> {
  const log = options.log ?? (() => {});
  const stats: MappingStats = { invocations: 0, thrown: 0, partial: 0, given_up: 0 };
  const invoke = async (records: readonly KinesisStreamRecord[]) => {
    let batch = records;
    for (let attempts = 1; batch.length > 0; attempts++) {
      if (attempts > MAPPING_ATTEMPTS) {
        // The mapping's on-failure destination would get these; they count as lost here.
        stats.given_up += batch.length;
        log(`gave up on ${batch.length} records after ${MAPPING_ATTEMPTS} attempts`);
        return;
      }
      stats.invocations++;
      let failed: string | undefined;
      try {
        const { batchItemFailures } = await handler({ Records: batch });
        failed = batchItemFailures[0]?.itemIdentifier;
        if (failed === undefined) return;
      } catch {
        stats.thrown++;
        continue;
      }
      stats.partial++;
      const from = batch.findIndex((r) => r.kinesis.sequenceNumber === failed);
      if (from < 0) throw new Error(`the handler reported a record it was not given: ${failed}`);
      batch = batch.slice(from);
    }
  };
  // One batch at a time, as for one shard without a ParallelizationFactor. (Batches at once
  // gained nothing against moto: one Python process does the work of every call.)
  for (let at = 0; at < records.length; at += options.batchSize)
    await invoke(records.slice(at, at + options.batchSize));
  return stats;
}
