import DataLoader from 'dataloader';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { matchVersions } from '../../projections/readModels/matches.js';
import type { EventStore } from '../../stream/eventStore/EventStore.js';
import { uuidFromName } from '../../stream/uuid.js';
import { awaitChange, deferStart, type MatchChange } from '../rpi/awaitedChanges.js';
import type { RpiSagaRequest } from '../rpi/rpiSagaData.js';
import { sagaStream } from '../SagaCoordinator.js';
import { SagaError } from '../SagaError.js';
import { foldSaga, hasEnded, hasNotBegun, type SagaState } from '../sagaState.js';

/** A season's saga and what the requests found: the slot, and the saga's state (consistent). */
interface SeasonLook {
  readonly slot: RequestSlot | undefined;
  readonly state: SagaState | undefined;
}

/** Where a season's latest automatic request stands. */
interface RequestSlot {
  readonly season: string;
  /** Counts the automatic sagas of the season; the saga id derives from it. */
  readonly generation: number;
  readonly saga_id: string;
  readonly requested_at: string;
}

export interface RecalculationRequestsOptions {
  /** Where the sagas are (to tell a pending one from one under way). */
  readonly store: EventStore;
  /**
   * The sagas' working documents: one slot per season (the latest automatic saga), and the
   * changes each pending saga must count (which its `collect_matches` step reads).
   */
  readonly slots: DocumentStore;
  /** The matches read model: whether it shows a change already. */
  readonly matches: DocumentStore;
  /** Starts an RPI saga with this id; false when a saga of this id exists already. */
  readonly begin: (request: RpiSagaRequest, sagaId: string) => Promise<boolean>;
  /** How long a request waits for more changes before the saga starts. @default 1000 */
  readonly debounceMs?: number;
  /**
   * How long after its first request a saga may wait while changes keep arriving: each change
   * it takes in defers its start to `debounceMs` after that change, up to this long after the
   * first (a bulk load is rated once it has gone in, not part by part). At or under
   * `debounceMs`, a saga starts `debounceMs` after its first request, however busy the feed.
   * @default 60000
   */
  readonly debounceMaxMs?: number;
  readonly profile: string;
  /** Count only games between teams of this division of the directory; null for all. */
  readonly division?: string | null;
  readonly now?: () => number;
  /**
   * Which hold of the sagas is on, if any: while a hold lasts no saga begins (the embedded
   * `start` holds them while its buses catch up). Absent where nothing holds them (AWS).
   */
  readonly holding?: () => number | undefined;
}

/** What a request did. */
export interface RequestOutcome {
  readonly saga_id: string;
  /** False when a pending saga of the season takes the change in. */
  readonly started: boolean;
  /** Until when (ms since the epoch) that saga surely takes further changes in. */
  readonly waitsUntil?: number;
  /** The hold of the sagas that was on before the saga was found waiting: it waits while it lasts. */
  readonly hold?: number;
}

const slotKey = (season: string) => ({ pk: 'requests#rpi', sk: season });

/** The least a deferral moves a saga's start on, to be worth a write (ms). */
const MIN_DEFERRAL_STEP_MS = 100;

/**
 * Debounced RPI recalculations, at most one pending per season. A request finds the season's
 * latest automatic saga: while it has not started work (it waits for `not_before`), it will
 * read the matches when it does, so the request is absorbed; otherwise a new saga is started,
 * due `debounceMs` later (at once while the sagas are held, which gather what it would) and,
 * when the season's previous saga has not ended, after it (its data's `after`): calculations
 * of a season run one at a time, and the one waiting takes in every request until it begins.
 * While changes keep arriving, each one it takes in defers its start to a debounce after it,
 * up to `debounceMaxMs` after its first request (`deferStart`): a bulk load is rated once it
 * is in, not a part each debounce.
 * Saga ids derive from the season and a generation count, so two handlers racing (or a
 * redelivered event) start one saga, not two: the event store refuses the second `SagaStarted`.
 *
 * The matches read model is another consumer of the stream, and may be any time behind the
 * handler. So a change the read model does not show yet is recorded for the saga that takes
 * it (`awaitChange`), whose `collect_matches` step waits for the read model to apply it; when
 * absorbing, the record is written before the saga is looked at again, and a saga found to
 * have begun meanwhile is not trusted with it: the next saga is started instead.
 */
export class RecalculationRequests {
  private readonly debounceMs: number;
  private readonly now: () => number;
  /**
   * How far the matches read model has applied a match stream (0: not at all). The handlers
   * ask for one result each, many at once (a bus delivers concurrently); the questions asked
   * together go to the read model as one read (`matchVersions`, up to 100 keys), nothing is
   * remembered between reads: the read model moves on.
   */
  private readonly versions: DataLoader<string, number>;
  /**
   * The season's slot and saga, read once for the requests of a season asked together: each
   * asks after it looked at its change, so one read made after all of them asked serves all.
   */
  private readonly looks: DataLoader<string, SeasonLook>;
  private readonly debounceMaxMs: number;
  /** Per season, the saga whose start this instance last deferred, and until when. */
  private readonly deferred = new Map<string, { saga_id: string; until: number }>();
  /**
   * Per season, the saga this instance is starting. The requests asked together find the same
   * slot, and each would start the same saga: one does, the others wait for it and look again
   * (they find it waiting and are absorbed), instead of each losing the race in the store and
   * reading the saga to learn so.
   */
  private readonly starting = new Map<string, Promise<unknown>>();

  constructor(private readonly options: RecalculationRequestsOptions) {
    this.debounceMs = options.debounceMs ?? 1000;
    this.debounceMaxMs = options.debounceMaxMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.looks = new DataLoader(
      async (seasons) => {
        const found = new Map<string, Promise<SeasonLook>>();
        for (const season of new Set(seasons)) found.set(season, this.look(season));
        return Promise.all(seasons.map((season) => found.get(season) as Promise<SeasonLook>));
      },
      { cache: false, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
    );
    this.versions = new DataLoader(
      async (ids) => {
        const found = await matchVersions(options.matches, ids);
        return ids.map((id) => found.get(id) ?? 0);
      },
      { cache: false, maxBatchSize: 100, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
    );
  }

  /**
   * Asks for the season's RPI to be calculated again, for this stored change of a match (none:
   * for a change the saga reads elsewhere, written before this request).
   */
  async request(season: string, reason: string, change?: MatchChange): Promise<RequestOutcome> {
    // Looked at before the saga is: a saga found waiting afterwards reads the matches later
    // still, and the read model never goes back.
    const shown = change === undefined || (await this.applied(change));
    for (let round = 0; round < 10; round++) {
      // Looked at before the saga is: while this hold lasts, a saga found waiting still waits.
      const hold = this.holding();
      const held = hold === undefined ? {} : { hold };
      const { slot, state } = await this.looks.load(season);
      // The season's saga that has not ended: the next one begins after it.
      let unended: string | undefined;
      if (slot) {
        // A saga that has not begun work takes the change in, however late in its wait, or
        // however long it waits for the season's previous saga to end: it reads the matches
        // only after its first step started, which this read (consistent) shows it had not.
        // A change the read model shows already is in what it will read; one it does not
        // show yet is recorded for the saga, which is then looked at again (`recordFor`).
        if (
          state !== undefined &&
          hasNotBegun(state) &&
          (shown || (await this.recordFor(slot.saga_id, change)))
        ) {
          if (hold === undefined) await this.deferStart(season, slot.saga_id, state);
          const until = this.surelyWaitsUntil(state);
          return {
            saga_id: slot.saga_id,
            started: false,
            ...(until ? { waitsUntil: until } : {}),
            ...held,
          };
        }
        if (state && !hasEnded(state)) unended = slot.saga_id;
      }
      const other = this.starting.get(season);
      if (other) {
        // Whatever became of it (a failure is its request's to report), look again.
        await other.catch(() => undefined);
        continue;
      }
      const starting = this.start(season, reason, { slot, unended, shown, change, hold });
      this.starting.set(season, starting);
      let outcome: RequestOutcome | undefined;
      try {
        outcome = await starting;
      } finally {
        if (this.starting.get(season) === starting) this.starting.delete(season);
      }
      if (outcome) return outcome;
    }
    throw new SagaError(
      'CONTENDED',
      `season ${season}: the recalculation requests kept changing under this one`,
      { retryable: true, context: { season } },
    );
  }

  /**
   * Starts the season's next automatic saga (after `unended`, if any); undefined when somebody
   * started that generation first, to be looked at again.
   */
  private async start(
    season: string,
    reason: string,
    found: {
      slot: RequestSlot | undefined;
      unended: string | undefined;
      shown: boolean;
      change: MatchChange | undefined;
      hold: number | undefined;
    },
  ): Promise<RequestOutcome | undefined> {
    const { slot, unended, shown, change, hold } = found;
    const held = hold === undefined ? {} : { hold };
    const generation = (slot?.generation ?? 0) + 1;
    const sagaId = uuidFromName(`rpi-recalculation:${season}#${generation}`);
    // Before the saga exists, so its first step sees it.
    if (!shown && change) await awaitChange(this.options.slots, sagaId, change);
    const now = this.now();
    // While the sagas are held, the hold gathers the changes the debounce would: the saga is
    // due at once, and begins when the hold ends (as it would after a hold longer than the
    // debounce).
    const debounce = hold === undefined ? this.debounceMs : 0;
    const started = await this.options.begin(
      {
        season,
        as_of: null,
        profile: this.options.profile,
        division: this.options.division ?? null,
        not_before: new Date(now + debounce).toISOString(),
        after: unended ?? null,
        requested_at: new Date(now).toISOString(),
        reason,
      },
      sagaId,
    );
    // When somebody started this generation first, look at it on the next round.
    await this.options.slots.write(
      [
        {
          ...slotKey(season),
          doc: {
            season,
            generation,
            saga_id: sagaId,
            requested_at: new Date(now).toISOString(),
          } satisfies RequestSlot,
        },
      ],
      [],
    );
    if (!started) return undefined;
    return {
      saga_id: sagaId,
      started: true,
      waitsUntil: now + debounce - this.margin(),
      ...held,
    };
  }

  /** Which hold of the sagas is on, if any (see the `holding` option). */
  holding(): number | undefined {
    return this.options.holding?.();
  }

  /** Whether the matches read model shows this change (or a later one of its stream). */
  async applied(change: MatchChange): Promise<boolean> {
    return (await this.versions.load(change.aggregate_id)) >= change.sequence;
  }

  /**
   * Records the change for a saga that was waiting, then looks at the saga again: true when
   * it still had not begun work, so its `collect_matches` step will see the record.
   */
  private async recordFor(sagaId: string, change: MatchChange | undefined): Promise<boolean> {
    if (!change) return true;
    await awaitChange(this.options.slots, sagaId, change);
    const state = foldSaga(await this.options.store.read(sagaStream(sagaId)));
    return state !== undefined && hasNotBegun(state);
  }

  /** The season's latest automatic saga, if any. */
  async latest(season: string): Promise<string | undefined> {
    return (await this.slot(season))?.saga_id;
  }

  /** The season's slot, then its saga's state. */
  private async look(season: string): Promise<SeasonLook> {
    const slot = await this.slot(season);
    const state = slot
      ? foldSaga(await this.options.store.read(sagaStream(slot.saga_id)))
      : undefined;
    return { slot, state };
  }

  /**
   * Defers the start of a saga that took a change in to `debounceMs` from now, within
   * `debounceMaxMs` of its first request. Written only when that moves the start on by half a
   * debounce (and `MIN_DEFERRAL_STEP_MS`) or more from where this instance last put it: two
   * writes a debounce at most, however fast the feed, and none a request for a debounce of a
   * few milliseconds. Timing only: what the saga counts does not depend on it (the start
   * is not trusted to wait for it; see `surelyWaitsUntil`).
   */
  private async deferStart(season: string, sagaId: string, state: SagaState): Promise<void> {
    if (this.debounceMaxMs <= this.debounceMs) return;
    const data = requestOf(state);
    if (!data.not_before || !data.requested_at) return;
    const quiet = Math.min(
      this.now() + this.debounceMs,
      Date.parse(data.requested_at) + this.debounceMaxMs,
    );
    const last = this.deferred.get(season);
    const known = last?.saga_id === sagaId ? last.until : Date.parse(data.not_before);
    if (quiet - known < Math.max(this.debounceMs / 2, MIN_DEFERRAL_STEP_MS)) return;
    // Noted before the write: the requests asked together all get here at once, and write once.
    this.deferred.set(season, { saga_id: sagaId, until: quiet });
    await deferStart(this.options.slots, sagaId, quiet);
  }

  private async slot(season: string): Promise<RequestSlot | undefined> {
    const k = slotKey(season);
    return (await this.options.slots.getMany([k])).get(`${k.pk}\u0000${k.sk}`) as
      | RequestSlot
      | undefined;
  }

  /**
   * Until when a saga that has not begun work surely will not: its `not_before`, less a margin
   * (clocks of two machines may differ by a little). What the handler's fast path relies on.
   */
  private surelyWaitsUntil(state: SagaState): number | undefined {
    const notBefore = requestOf(state).not_before;
    return notBefore ? Date.parse(notBefore) - this.margin() : undefined;
  }

  private margin(): number {
    return Math.min(250, this.debounceMs / 4);
  }
}

/** What an automatic saga was asked with that its timing depends on. */
function requestOf(state: SagaState): { not_before?: string | null; requested_at?: string } {
  return (state.data ?? {}) as { not_before?: string | null; requested_at?: string };
}
