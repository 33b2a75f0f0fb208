import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { KinesisHandler } from '../../pipeline/aws/consumers.js';
import type { SagaObserver } from '../../pipeline/aws/sagas.js';
import type { BreakerTransition } from '../../stream/breaker/CircuitBreaker.js';
import { commitOfRecord } from '../../stream/consumer/decodeRecord.js';
import type { KinesisStreamEvent } from '../../stream/consumer/kinesisEvent.js';

/** Saga events counted as metrics (`SagasCompleted`, ... in the namespace `matchstream`). */
export const SAGA_METRICS: Readonly<Record<string, string>> = {
  SagaCompleted: 'SagasCompleted',
  SagaCompensated: 'SagasCompensated',
  SagaStepFailed: 'SagaStepsFailed',
  SagaCompensationFailed: 'SagaCompensationsFailed',
};

/**
 * The metrics of one function, every datum carrying `service` and `consumer`. Default
 * dimensions, since Powertools clears those added with `addDimension` at every publish: a
 * dimension added once at module scope would be gone from every invocation after a container's
 * first (https://docs.aws.amazon.com/powertools/typescript/latest/features/metrics/, "Adding
 * default dimensions"; `MetricsInterface.addDimension`: "When calling the
 * publishStoredMetrics() method, the dimensions are cleared").
 */
export function handlerMetrics(consumer: string): Metrics {
  return new Metrics({
    namespace: 'matchstream',
    serviceName: 'matchstream',
    defaultDimensions: { consumer },
  });
}

/** Counts a saga event the coordinator appended; compensations are logged as warnings. */
export function sagaMetric(
  metrics: Metrics,
  logger: Logger,
  sagaId: string,
  eventType: string,
): void {
  const metric = SAGA_METRICS[eventType];
  if (metric) metrics.addMetric(metric, MetricUnit.Count, 1);
  if (eventType === 'SagaCompensated' || eventType === 'SagaCompensationFailed')
    logger.warn('saga compensated', { sagaId, eventType });
}

/** What a function tells of its breakers: transitions, held work, state it could not share. */
export function breakerObserver(
  metrics: Metrics,
  logger: Logger,
): Required<Pick<SagaObserver, 'breaker' | 'held' | 'breakerError'>> {
  return {
    breaker: (t) => breakerMetric(metrics, logger, t),
    held(held) {
      metrics.addMetric('BatchesHeld', MetricUnit.Count, 1);
      logger.warn('work held: a circuit breaker is open', {
        breaker: held.breaker,
        retryAt: new Date(held.retryAt).toISOString(),
        reason: held.reason,
      });
    },
    breakerError(error) {
      logger.warn('circuit breaker state not shared', { error: error.message });
    },
  };
}

/** Breaker metrics, one datum each with the breaker as a dimension, and its transitions logged. */
export function breakerMetric(metrics: Metrics, logger: Logger, t: BreakerTransition): void {
  const single = metrics.singleMetric();
  single.addDimension('breaker', t.name);
  switch (t.kind) {
    case 'opened':
      single.addMetric('BreakerOpened', MetricUnit.Count, 1);
      logger.warn('circuit breaker opened: work that needs it is held', {
        breaker: t.name,
        reason: t.reason,
        shared: t.shared,
      });
      return;
    case 'reopened':
      single.addMetric('BreakerTrialsFailed', MetricUnit.Count, 1);
      logger.warn('circuit breaker trial failed', { breaker: t.name, reason: t.reason });
      return;
    case 'half-open':
      single.addMetric('BreakerHalfOpenTrials', MetricUnit.Count, 1);
      return;
    case 'closed':
      single.addMetric('BreakerOpenMs', MetricUnit.Milliseconds, t.openMs);
      single.addMetric('BreakerClosed', MetricUnit.Count, 1);
      logger.info('circuit breaker closed', { breaker: t.name, openMs: t.openMs });
      return;
    default:
      t satisfies never;
  }
}

/**
 * A consumer's Lambda handler with Powertools: a structured log line for each record it cannot
 * read, and per invocation the metrics `EventsApplied`, `DuplicatesDropped`, `GapsFilled`,
 * `RecordsFailed`, `IteratorLagMs`, `BatchesHeld` (a breaker open), and for the bus router `EventsPublished` and
 * `PutEventsFailed`, for the saga functions `SagasCompleted`,
 * `SagasCompensated`, `SagaStepsFailed`, `SagaCompensationsFailed` (namespace `matchstream`,
 * dimensions `service` and `consumer`) in EMF.
 */
export function observed(
  consumer: string,
  build: (observer: SagaObserver) => KinesisHandler,
): {
  handler: (
    event: KinesisStreamEvent,
    context?: { getRemainingTimeInMillis(): number },
  ) => ReturnType<KinesisHandler>;
  logger: Logger;
  metrics: Metrics;
} {
  const logger = new Logger({ serviceName: 'matchstream', persistentKeys: { consumer } });
  const metrics = handlerMetrics(consumer);
  /** When the running invocation must be done (ms since the epoch), if Lambda said. */
  let deadline: number | undefined;
  const inner = build({
    remainingMs: () => (deadline === undefined ? 0 : deadline - Date.now()),
    ...breakerObserver(metrics, logger),
    delivered(applied, duplicates, filled, skipped) {
      metrics.addMetric('EventsApplied', MetricUnit.Count, applied);
      metrics.addMetric('DuplicatesDropped', MetricUnit.Count, duplicates);
      metrics.addMetric('GapsFilled', MetricUnit.Count, filled);
      metrics.addMetric('EventsSkipped', MetricUnit.Count, skipped);
    },
    published(published, deadLettered) {
      metrics.addMetric('EventsPublished', MetricUnit.Count, published);
      metrics.addMetric('PutEventsFailed', MetricUnit.Count, deadLettered);
    },
    sagaEvent: (sagaId, eventType) => sagaMetric(metrics, logger, sagaId, eventType),
    error(error) {
      logger.error('saga coordinator failed', { error: error.message });
    },
    failed(record, error) {
      logger.error('record not processed', {
        shard: record.eventID.split(':')[0],
        sequenceNumber: record.kinesis.sequenceNumber,
        partitionKey: record.kinesis.partitionKey,
        error: error instanceof Error ? error.message : String(error),
      });
    },
  });
  const handler = async (
    event: KinesisStreamEvent,
    context?: { getRemainingTimeInMillis(): number },
  ): ReturnType<KinesisHandler> => {
    deadline = context ? Date.now() + context.getRemainingTimeInMillis() : undefined;
    const oldest = Math.min(
      ...event.Records.map((r) => r.kinesis.approximateArrivalTimestamp * 1000),
    );
    try {
      const response = await inner(event);
      metrics.addMetric('RecordsFailed', MetricUnit.Count, response.batchItemFailures.length);
      return response;
    } catch (error) {
      // Lambda counts the failure (its Errors metric, which the consumer's alarm watches) and
      // logs the error, but not where: which consumer, shard, records, streams and events.
      logger.error('batch not processed: the mapping retries it, bisecting', {
        ...batchContext(event),
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    } finally {
      // A batch that fails is as far behind as one that succeeds: a rebuild's catch-up reads
      // this lag, and takes a consumer that reports none for 5 minutes as caught up.
      if (Number.isFinite(oldest))
        metrics.addMetric('IteratorLagMs', MetricUnit.Milliseconds, Date.now() - oldest);
      metrics.publishStoredMetrics();
    }
  };
  return { handler, logger, metrics };
}

/** Streams and event ids a failed batch's log line lists at most (the rest are counted). */
const LISTED = 10;

/**
 * Where a batch is, for a log line: its shard and sequence numbers, and the streams (as
 * `aggregate id@first sequence`) and event ids of the commits its records carry, read without
 * decoding any event's data (ids only, never a payload).
 */
export function batchContext(event: KinesisStreamEvent): Record<string, unknown> {
  const records = event.Records;
  const commits = records.flatMap((record) => {
    try {
      const commit = commitOfRecord(record);
      return commit ? [commit] : [];
    } catch {
      return [];
    }
  });
  const streams = commits.map((c) => `${c.aggregate_id}@${c.sequence}`);
  const eventIds = commits.flatMap((c) => c.events.map((e) => e.event_id));
  return {
    shard: records[0]?.eventID.split(':')[0],
    records: records.length,
    firstSequenceNumber: records[0]?.kinesis.sequenceNumber,
    lastSequenceNumber: records.at(-1)?.kinesis.sequenceNumber,
    streams: streams.slice(0, LISTED),
    eventIds: eventIds.slice(0, LISTED),
    ...(streams.length > LISTED ? { moreStreams: streams.length - LISTED } : {}),
    ...(eventIds.length > LISTED ? { moreEventIds: eventIds.length - LISTED } : {}),
  };
}
