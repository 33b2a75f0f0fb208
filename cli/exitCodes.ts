/** Exit codes of every `matchstream` command (documented in the README). */
export const EXIT = {
  /** Everything worked. */
  OK: 0,
  /** The command failed: an unreadable file, a server that would not start, a bug. */
  FAILURE: 1,
  /** The command line was wrong: unknown flag, bad value. Nothing was done. */
  USAGE: 2,
  /**
   * Some input was invalid and kept aside with why: feed rows (with their line numbers), or
   * stored events a replay could not read. The rest went through.
   */
  INVALID_INPUT: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports in one line and turns into an exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT.FAILURE, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
