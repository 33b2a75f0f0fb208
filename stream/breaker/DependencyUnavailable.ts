/**
 * A call a circuit breaker held back: the dependency is failing, and whoever runs the work must
 * hold it and try again from `retryAt` on, without counting an attempt and without
 * dead-lettering it (a Kinesis batch stays in the stream, a bus event in its queue, a saga
 * step where it is).
 */
export class DependencyUnavailable extends Error {
  constructor(
    /** `<handler or consumer>/<dependency>`. */
    readonly breaker: string,
    /** When the breaker lets a trial through (ms since the epoch). */
    readonly retryAt: number,
    /** The failure that opened it. */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${breaker} is open${reason ? ` (${reason})` : ''}: the work is held until ${new Date(retryAt).toISOString()}`,
      options,
    );
    this.name = 'DependencyUnavailable';
  }
}

/**
 * The `DependencyUnavailable` in `error` or its causes, if any: a held call may reach the
 * runner wrapped in the error of the layer that made it. Of an `AggregateError` (parts of
 * the work run side by side), only when every part was held, with the latest trial time:
 * a part that failed otherwise makes the whole a failure.
 */
export function heldBy(error: unknown, depth = 0): DependencyUnavailable | undefined {
  if (!(error instanceof Error) || depth > 8) return undefined;
  if (error instanceof DependencyUnavailable) return error;
  if (error instanceof AggregateError && error.errors.length > 0) {
    const held = error.errors.map((e: unknown) => heldBy(e, depth + 1));
    if (held.some((h) => h === undefined)) return undefined;
    return (held as DependencyUnavailable[]).reduce((a, b) => (b.retryAt > a.retryAt ? b : a));
  }
  return heldBy(error.cause, depth + 1);
}
