import {
  describeUnknownColumn,
  type FeedProblem,
  type UnknownColumn,
} from '../../feeds/readFeed.js';
import { ERROR_PREFIX, reportError } from './errors.js';
import { counted } from './plural.js';

const SHOWN = 50;
/** Unknown columns named one by one; more are said in one line. */
const SHOWN_COLUMNS = 20;

/**
 * For a feed reader's `onUnknownColumn`: a warning for each column the feed's format does not
 * know, `matchstream: warning: FILE: unknown column "x" (did you mean "y"?): ignored`, at most
 * 20. `write` puts a line out (default: standard error).
 */
export function unknownColumnWarnings(
  file: string,
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): (column: UnknownColumn) => void {
  const name = file === '-' ? 'stdin' : file;
  let count = 0;
  return (column) => {
    count++;
    if (count <= SHOWN_COLUMNS)
      write(`${ERROR_PREFIX}warning: ${describeUnknownColumn(name, column)}`);
    else if (count === SHOWN_COLUMNS + 1)
      write(`${ERROR_PREFIX}warning: ${name}: more unknown columns, not named: ignored`);
  };
}

/** Writes `matchstream: FILE:LINE: reason` for each bad row to standard error, at most 50 of them. */
export function reportProblems(
  file: string,
  problems: readonly Pick<FeedProblem, 'line' | 'reason'>[],
): void {
  const name = file === '-' ? 'stdin' : file;
  for (const p of problems.slice(0, SHOWN)) reportError(`${name}:${p.line}: ${p.reason}`);
  if (problems.length > SHOWN) {
    reportError(
      `${name}: ... and ${counted(problems.length - SHOWN, 'more invalid row', 'more invalid rows')}`,
    );
  }
}
