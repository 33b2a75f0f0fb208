import { CliError } from './exitCodes.js';

/** The rows `Interrupt.stopping` lets through between two looks at the signal. */
const STOPPING_ROWS = 100;

/**
 * SIGINT and SIGTERM while a run goes on: the first stops it between its steps (`check`,
 * `race`, `stopping`), with the one-line error of an interrupted run; a second one, no longer
 * trapped, ends the process at once.
 */
export class Interrupt {
  private readonly controller = new AbortController();
  /** Rejects once a signal came; handled here, so that no wait left unraced is unhandled. */
  private readonly rejected: Promise<never>;
  private readonly trap = () => {
    this.release();
    this.controller.abort();
  };

  /** `message`: the one line of the interrupted run's error. */
  constructor(private readonly message: () => string) {
    this.rejected = new Promise<never>((_, reject) =>
      this.controller.signal.addEventListener('abort', () => reject(this.error()), {
        once: true,
      }),
    );
    this.rejected.catch(() => {});
    process.once('SIGINT', this.trap);
    process.once('SIGTERM', this.trap);
  }

  get caught(): boolean {
    return this.controller.signal.aborted;
  }

  onCaught(listener: () => void): void {
    this.controller.signal.addEventListener('abort', listener, { once: true });
  }

  /** Throws the interrupted run's error once a signal came. */
  check(): void {
    if (this.caught) throw this.error();
  }

  /** `work`, or the interrupted run's error as soon as a signal comes. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.rejected]);
  }

  /**
   * Passes the rows through until a signal comes, the rows already passed going on: in
   * slices of 100, since a reader's batch holds a megabyte of the feed (30,000 rows).
   */
  async *stopping<T>(batches: AsyncIterable<readonly T[]>): AsyncGenerator<T[]> {
    for await (const batch of batches)
      for (let start = 0; start < batch.length; start += STOPPING_ROWS) {
        if (this.caught) return;
        yield batch.slice(start, start + STOPPING_ROWS);
      }
  }

  /** Signals keep their default action again. */
  release(): void {
    process.removeListener('SIGINT', this.trap);
    process.removeListener('SIGTERM', this.trap);
  }

  private error(): CliError {
    return new CliError(this.message());
  }
}
