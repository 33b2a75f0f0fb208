/** Stable codes of `ConsumerError`. */
export type ConsumerErrorCode = 'MALFORMED_RECORD' | 'GAP_NOT_FILLED' | 'HANDLER_FAILED';

/** Where in the stream a consumer failed: enough to find the record, never its payload. */
export interface ConsumerErrorContext {
  readonly consumer?: string;
  readonly shardId?: string;
  readonly sequenceNumber?: string;
  readonly aggregateId?: string;
  readonly sequence?: number;
}

/** A stream record a consumer cannot process, with where it is. */
export class ConsumerError extends Error {
  readonly code: ConsumerErrorCode;
  readonly context: ConsumerErrorContext;

  constructor(
    code: ConsumerErrorCode,
    message: string,
    context: ConsumerErrorContext = {},
    options?: { cause?: unknown },
  ) {
    const where = [
      context.consumer && `consumer ${context.consumer}`,
      context.shardId && `shard ${context.shardId}`,
      context.sequenceNumber && `record ${context.sequenceNumber}`,
      context.aggregateId &&
        `stream ${context.aggregateId}${context.sequence ? `#${context.sequence}` : ''}`,
    ].filter(Boolean);
    super(where.length > 0 ? `${message} (${where.join(', ')})` : message, options);
    this.name = 'ConsumerError';
    this.code = code;
    this.context = context;
  }
}
