import type { EmbeddedRuntime } from '../stream/local/EmbeddedRuntime.js';
import { counted } from './output/plural.js';
import type { Phases } from './phases.js';
import type { CountWords } from './progress.js';

export const EVENTS_APPLIED: CountWords = { unit: 'events', verb: 'applied to the read models' };
export const EVENTS_ROUTED: CountWords = { unit: 'events', verb: 'routed to the buses' };

/**
 * Waits for these consumers to handle everything relayed so far (and what that makes others
 * append), showing how many events the slowest of them has handled.
 */
export async function catchUp(
  phases: Phases,
  name: string,
  words: CountWords,
  runtime: EmbeddedRuntime,
  names: readonly string[],
): Promise<void> {
  const phase = phases.begin(name, words);
  const consumers = names.flatMap((n) => {
    const c = runtime.consumers.get(n);
    return c ? [c] : [];
  });
  // Handled: applied, or skipped as of a stream the consumer does not read.
  const applied = () => Math.min(...consumers.map((c) => c.counts.applied + c.counts.skipped));
  // The progress is of the backlog (what was handled before counts for the end line only).
  const before = applied();
  const timer = setInterval(
    () =>
      phase.progress({
        done: applied() - before,
        total: Math.max(0, runtime.relay.stats.forwarded - before),
      }),
    100,
  );
  try {
    await runtime.settle();
  } finally {
    clearInterval(timer);
  }
  phase.end(`${counted(applied(), 'event')} ${words.verb}`);
}
