/** The start of every error line the command writes, whatever the command and the path. */
export const ERROR_PREFIX = 'matchstream: ';

/** Writes one error line to standard error, `matchstream: ` first. */
export function reportError(message: string): void {
  process.stderr.write(`${ERROR_PREFIX}${message}\n`);
}
