export type FeedErrorCode = 'FEED_UNREADABLE' | 'FEED_MISSING_COLUMNS' | 'FEED_BAD_HEADER';

/**
 * A feed file that cannot be read at all (as opposed to a bad row, which is reported as a
 * `FeedProblem` while the good rows go through). Names the file, and the line when known.
 */
export class FeedError extends Error {
  readonly code: FeedErrorCode;
  readonly file: string;
  readonly line: number | undefined;

  constructor(
    code: FeedErrorCode,
    file: string,
    message: string,
    options?: { cause?: unknown; line?: number },
  ) {
    super(`${file}${options?.line ? `:${options.line}` : ''}: ${message}`, options);
    this.name = 'FeedError';
    this.code = code;
    this.file = file;
    this.line = options?.line;
  }
}
