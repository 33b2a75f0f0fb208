import type { ArchivedExport } from './readExport.js';

/** The exports a rebuild reads, in order: the newest full export, then the incrementals after it. */
export function exportChain(exports: readonly ArchivedExport[]): ArchivedExport[] {
  const fullAt = exports.findLastIndex((e) => !e.incremental);
  if (fullAt < 0) return [];
  const chain = [exports[fullAt] as ArchivedExport];
  for (const e of exports.slice(fullAt + 1))
    if (e.incremental && e.summary.exportFromTime !== undefined) {
      const last = chain.at(-1) as ArchivedExport;
      // An incremental export continues the chain when it starts at or before its end.
      if (Date.parse(e.summary.exportFromTime) <= Date.parse(last.upTo)) chain.push(e);
    }
  return chain;
}
