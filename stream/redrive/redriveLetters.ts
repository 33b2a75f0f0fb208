import type { Letter } from './Letter.js';

/** What redriving one letter would do, found without changing anything. */
export type RedrivePlan =
  /** Re-apply these events (read from the store) through `through`. */
  | { readonly action: 'redrive'; readonly through: string; readonly events: number }
  /**
   * Nothing to re-apply: `resolved` when its events are applied already (the letter is then
   * removed), otherwise it cannot be redriven and is kept.
   */
  | { readonly action: 'skip'; readonly why: string; readonly resolved: boolean };

/**
 * How the letters of one runtime are sent back: the consumer or handler code that failed, wired
 * by the composition root. `plan` changes nothing; `apply` re-applies the letter's events and
 * throws, with the new reason, when they fail again.
 */
export interface Redriver {
  plan(letter: Letter): Promise<RedrivePlan>;
  /** The events applied (0 when the consumer had applied them all meanwhile). */
  apply(letter: Letter): Promise<number>;
}

/** Where the letters are kept: what a redrive does with a letter once it knows. */
export interface LetterPlaces {
  /** Removes every copy of a letter that was redriven (or found resolved). */
  remove(letter: Letter): Promise<void>;
  /** Keeps a letter that failed again, with the new reason and one more attempt. */
  failedAgain(letter: Letter, error: string): Promise<void>;
}

export interface RedriveSummary {
  readonly dry_run: boolean;
  /** Letters taken (after the filters). */
  readonly letters: number;
  /** Letters whose events were re-applied (or, with `dry_run`, would be): removed. */
  readonly redriven: readonly {
    readonly id: string;
    readonly consumer: string;
    readonly through: string;
    /** Events applied (with `dry_run`: read from the store, to be applied). */
    readonly events: number;
  }[];
  /** Letters that failed again: kept, with the new reason and attempts. */
  readonly still_failing: readonly {
    readonly id: string;
    readonly consumer: string;
    readonly error: string;
    readonly attempts: number;
  }[];
  /** Letters not redriven, each with why, and whether it was removed (its events applied). */
  readonly skipped: readonly {
    readonly id: string;
    readonly consumer: string;
    readonly why: string;
    readonly removed: boolean;
  }[];
}

export interface RedriveOptions {
  readonly redriver: Redriver;
  readonly places: LetterPlaces;
  /** Say what would be done, change nothing. */
  readonly dryRun?: boolean;
  /** After each letter: how many of how many are done. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Sends letters back, one at a time, oldest first (so a stream's earlier failure goes before
 * a later one): each is planned, then (unless a dry run) re-applied through the code that
 * failed. A letter that goes through is removed; one that fails again is kept with the new
 * reason and one more attempt; one whose events were applied meanwhile is removed and counted
 * skipped; one that cannot be redriven is kept and counted skipped, with why. Redriving again
 * re-applies nothing: the consumers' positions and the handlers' idempotency see to it.
 */
export async function redriveLetters(
  letters: readonly Letter[],
  options: RedriveOptions,
): Promise<RedriveSummary> {
  const { redriver, places } = options;
  const dryRun = options.dryRun ?? false;
  const summary = {
    dry_run: dryRun,
    letters: letters.length,
    redriven: [] as RedriveSummary['redriven'][number][],
    still_failing: [] as RedriveSummary['still_failing'][number][],
    skipped: [] as RedriveSummary['skipped'][number][],
  };
  const ordered = [...letters].sort(
    (a, b) => a.failed_at.localeCompare(b.failed_at) || a.id.localeCompare(b.id),
  );
  let done = 0;
  for (const letter of ordered) {
    const { id, consumer } = letter;
    let plan: RedrivePlan;
    try {
      plan = await redriver.plan(letter);
    } catch (error) {
      // Its events cannot be read from the store yet: it fails again, as it is.
      const reason = message(error);
      if (!dryRun) await places.failedAgain(letter, reason);
      summary.still_failing.push({
        id,
        consumer,
        error: reason,
        attempts: letter.attempts + (dryRun ? 0 : 1),
      });
      options.onProgress?.(++done, ordered.length);
      continue;
    }
    if (plan.action === 'skip') {
      if (plan.resolved && !dryRun) await places.remove(letter);
      summary.skipped.push({ id, consumer, why: plan.why, removed: plan.resolved && !dryRun });
    } else if (dryRun) {
      summary.redriven.push({ id, consumer, through: plan.through, events: plan.events });
    } else {
      let applied: number | undefined;
      let reason = '';
      try {
        applied = await redriver.apply(letter);
      } catch (error) {
        reason = message(error);
      }
      if (applied === undefined) {
        await places.failedAgain(letter, reason);
        summary.still_failing.push({ id, consumer, error: reason, attempts: letter.attempts + 1 });
      } else {
        await places.remove(letter);
        summary.redriven.push({ id, consumer, through: plan.through, events: applied });
      }
    }
    options.onProgress?.(++done, ordered.length);
  }
  return summary;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
