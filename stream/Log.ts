/**
 * Where a part of the pipeline says what happened: the fields first, then the message, as
 * pino (and Powertools Logger) take them. The fields name what and where (consumer, shard,
 * aggregate id, sequence number, error message), never an event's data.
 */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
