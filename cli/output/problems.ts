import type { FeedProblem } from '../../feeds/readFeed.js';
import { reportError } from './errors.js';
import { counted } from './plural.js';

const SHOWN = 50;

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
