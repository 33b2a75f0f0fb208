import type { FeedProblem } from '../../feeds/readFeed.js';

const SHOWN = 50;

/** Writes `FILE:LINE: reason` for each bad row to standard error, at most 50 of them. */
export function reportProblems(file: string, problems: readonly FeedProblem[]): void {
  for (const p of problems.slice(0, SHOWN))
    process.stderr.write(`${file}:${p.line}: ${p.reason}\n`);
  if (problems.length > SHOWN) {
    process.stderr.write(`${file}: ... and ${problems.length - SHOWN} more invalid rows\n`);
  }
}
