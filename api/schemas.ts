import { z } from '@hono/zod-openapi';
import { isCalendarDay } from '../domain/games/parseDate.js';
import { hasControlCharacter } from '../domain/games/validateGame.js';
import { RPI_VARIANTS } from '../domain/rpi/computeRpiVariant.js';
import { PROFILES } from '../domain/rpi/RpiProfile.js';

/**
 * The schemas of the query API, in one place: the routes validate requests with them, the
 * handlers' answers are typed by them, and the OpenAPI document is generated from them. Objects
 * are strict (`additionalProperties: false` in the document), so an answer carrying a field the
 * document does not name fails the contract test.
 */

const SEASON = /^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$/;
const SEASON_REQUIRED = 'season is required, e.g. ?season=2026';
const NAME_RULE = '1 to 20 letters, digits, dots, dashes or underscores';
const MAX_ID = 200;

/** A string; `required` is the message when it is missing, else it is optional. */
function text(name: string, required?: string) {
  return z.string({
    error: (issue) =>
      issue.input === undefined || issue.input === null
        ? (required ?? `${name} must be a string`)
        : `${name} must be a string`,
  });
}

/** A season name, e.g. `2026`. */
function season(required?: string) {
  return text('season', required)
    .min(1, required ?? `season must be ${NAME_RULE}`)
    .regex(SEASON, `season must be ${NAME_RULE}`)
    .openapi({ example: '2026' });
}

const calendarDay = (name: string) =>
  text(name)
    .refine(isCalendarDay, `${name} must be a YYYY-MM-DD date`)
    .openapi({ format: 'date', example: '2026-10-01' });

/** An id in a path: printable, bounded, as the read models key them. */
function pathId(what: string, example: string) {
  const rule = `${what} must be 1 to ${MAX_ID} printable characters`;
  return z
    .string()
    .min(1, rule)
    .max(MAX_ID, rule)
    .refine((id) => !hasControlCharacter(id), rule)
    .openapi({ param: { name: 'id', in: 'path' }, description: what, example });
}

// Requests

export const SeasonQuery = z.strictObject({
  season: season(SEASON_REQUIRED).openapi({ description: 'The season' }),
});
export const SeasonAsOfQuery = z.strictObject({
  season: season(SEASON_REQUIRED).openapi({ description: 'The season' }),
  as_of: calendarDay('as_of')
    .optional()
    .openapi({ description: 'Only games played up to this day count' }),
});
const profiles = [...PROFILES.keys()] as [string, ...string[]];
const profileRule = `profile must be one of ${profiles.join(', ')}`;
const variantRule = `variant must be one of ${RPI_VARIANTS.join(', ')}`;
/** Which RPI a calculation computes. */
const variant = z.enum(RPI_VARIANTS, variantRule).openapi({
  description:
    'unadjusted: the formula; adjusted: plus bonuses for wins and ties against teams ranked high in the unadjusted RPI, minus penalties for losses and ties against teams ranked low (profiles with such a table); non-conference: over non-conference games (README, "The RPI")',
});
const division = () => text('division').regex(SEASON, `division must be ${NAME_RULE}`);

/**
 * What `GET /rankings` takes: a season and, for a calculation of another scope than the
 * season's current rankings, the day, division and profile it counts by.
 */
export const RankingsQuery = SeasonAsOfQuery.extend({
  division: division().optional().openapi({
    description: 'The calculation counting only games between teams of this division',
  }),
  profile: z
    .enum(profiles, profileRule)
    .optional()
    .openapi({ description: 'The calculation made with this RPI profile' }),
  variant: variant
    .optional()
    .openapi({ description: 'The calculation of this RPI; unadjusted when not given' }),
});
export const OptionalSeasonQuery = z.strictObject({
  season: season().optional().openapi({ description: 'Only this season' }),
});
export const NoQuery = z.strictObject({});
/**
 * A team's id in a path, in NFC as the feeds store team names: an address written with a
 * decomposed accent (`Universite\u0301`) names the team the feed wrote composed.
 */
export const TeamIdPath = z.object({
  id: pathId('team id', 'Akron').transform((id) => id.normalize('NFC')),
});
export const SagaIdPath = z.object({
  id: pathId('saga id', '1f0e9a2c-5d7b-4c1e-9b1a-3c2d4e5f6a7b'),
});

/** What `POST /sagas` takes; a field given as null counts as not given. */
export const StartSagaBody = z
  .strictObject({
    type: z
      .enum(
        ['rpi', 'rpi_calculation', 'rpi-calculation'],
        'type must be "rpi" (the RPI calculation saga)',
      )
      .nullish()
      .openapi({ description: 'The saga to start; "rpi" when not given' }),
    season: season(SEASON_REQUIRED),
    as_of: calendarDay('as_of')
      .nullish()
      .openapi({ description: 'Count games played up to this day only; all when not given' }),
    profile: z
      .enum(profiles, profileRule)
      .nullish()
      .openapi({ description: `The RPI profile; ${profiles[0]} when not given` }),
    division: division().nullish().openapi({
      description: 'Count only games between teams of this division; all when not given',
    }),
    variant: variant
      .nullish()
      .openapi({ description: 'Which RPI to compute; unadjusted when not given' }),
    adjustments: z
      .record(z.string(), z.unknown(), 'adjustments must be an object, e.g. {"tiers": {...}}')
      .nullish()
      .openapi({
        description:
          'With the adjusted variant: values laid over the profile\'s bonus and penalty table, as `matchstream rpi --adjustments FILE` reads them ({"games": ..., "tiers": {"<tier>": {"first", "last", "win"|"tie"|"loss": {"home", "neutral", "away"}}}}); needed where the profile leaves a value unconfirmed',
      }),
  })
  .openapi('StartSagaRequest', { example: { season: '2026' } });

// Answers

export const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      status: z.int().min(400).max(599).openapi({ description: 'The HTTP status, again' }),
      message: z.string().openapi({ description: 'What was wrong, in one line' }),
    }),
  })
  .openapi('Error', {
    description: 'An answer of the API that is not a success',
    example: { error: { status: 400, message: 'season is required, e.g. ?season=2026' } },
  });

export const GatewayErrorBody = z.strictObject({ message: z.string() }).openapi('GatewayError', {
  description:
    'An answer of API Gateway itself on AWS (the request did not reach the API): throttled, or a write without an allowed SigV4 signature',
  example: { message: 'Forbidden' },
});

/** A list in an answer (the read models hand out readonly arrays). */
const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();
const day = z.iso.date();
const instant = z.iso.datetime({ offset: true });
const count = z.int().min(0);
const ratio = z.number().nullable();

export const RankingEntry = z
  .strictObject({
    rank: z.int().min(1).nullable().openapi({ description: 'null for a team without a rating' }),
    team: z.string(),
    games: count,
    wins: count,
    losses: count,
    ties: count,
    wp: ratio.openapi({ description: 'Winning percentage' }),
    owp: ratio.openapi({ description: "Opponents' winning percentage" }),
    oowp: ratio.openapi({ description: "Opponents' opponents' winning percentage" }),
    rpi: ratio.openapi({ description: "The calculation's variant of the RPI" }),
    unadjusted_rank: z
      .int()
      .min(1)
      .nullable()
      .openapi({ description: 'The rank in the unadjusted RPI of the same games' }),
    unadjusted_rpi: ratio.openapi({ description: 'The unadjusted RPI of the same games' }),
    adjustment: z.number().nullable().openapi({
      description: 'Adjusted variant: bonuses minus penalties, already part of rpi; else null',
    }),
    bonus: z.number().nullable().openapi({
      description: 'A profile with a quality-win bonus: the bonus, already part of rpi; else null',
    }),
  })
  .openapi('RankingEntry');

export const CachedRankings = z
  .strictObject({
    source: z.literal('cache'),
    season: z.string(),
    calculation_id: z.string(),
    as_of: day.nullable(),
    profile: z.string(),
    division: z.string().nullable().optional().openapi({
      description: 'null (or absent, in documents of earlier releases): every division',
    }),
    variant,
    games_counted: count,
    computed_at: instant.nullable(),
    published_at: instant.nullable(),
    rankings: list(RankingEntry),
    previous_calculation_id: z.string().nullable(),
    saga_id: z.string().nullable(),
    collected_at: instant.nullable(),
  })
  .openapi('CachedRankings', {
    description:
      "A calculation from the rankings cache the RPI saga keeps: the season's current rankings, or the latest calculation of the scope asked for",
  });

export const PublishedCalculation = z
  .strictObject({
    source: z.literal('read-model'),
    calculation_id: z.string(),
    season: z.string(),
    as_of: day.nullable(),
    profile: z.string(),
    division: z.string().nullable().openapi({ description: 'null: every division' }),
    variant,
    games_counted: count,
    last_game_on: day
      .nullable()
      .openapi({ description: 'The day of the last game counted (null in earlier releases)' }),
    computed_at: instant,
    status: z.enum(['calculated', 'published', 'retracted']),
    published_at: instant.nullable(),
    retracted_at: instant.nullable(),
    retraction_reason: z.string().nullable(),
    rankings: list(RankingEntry),
    version: z.int().min(1).openapi({ description: "Last event of the calculation's stream" }),
  })
  .openapi('PublishedCalculation', {
    description: 'A published calculation, from the rankings read model',
  });

export const Rankings = z
  .discriminatedUnion('source', [CachedRankings, PublishedCalculation])
  .openapi('Rankings');

export const StandingRow = z
  .strictObject({
    team: z.string(),
    conference: z.string().nullable(),
    played: count,
    wins: count,
    losses: count,
    ties: count,
    goals_for: count,
    goals_against: count,
    goal_difference: z.int(),
    points: count.openapi({ description: '3 a win, 1 a tie' }),
  })
  .openapi('StandingRow');

export const Standings = z
  .strictObject({
    season: z.string(),
    as_of: day.nullable(),
    conferences: list(
      z.strictObject({ conference: z.string().nullable(), teams: list(StandingRow) }),
    ),
  })
  .openapi('Standings');

const teamFields = {
  team_id: z.string(),
  name: z.string(),
  conference: z.string().nullable(),
  division: z.string().nullable(),
  region: z.string().nullable(),
  registered_at: instant,
  updated_at: instant,
  version: z.int().min(1).openapi({ description: "Last event of the team's stream applied" }),
};

export const Team = z.strictObject(teamFields).openapi('Team');

export const Teams = z.strictObject({ teams: list(Team) }).openapi('Teams');

export const RankHistoryEntry = z
  .strictObject({
    calculation_id: z.string(),
    as_of: day.nullable(),
    published_at: instant.nullable(),
    rank: z.int().min(1).nullable(),
    rpi: ratio,
  })
  .openapi('RankHistoryEntry');

// The team's fields again rather than Team.extend(): the generator would write an allOf of a
// strict Team and the extra field, which no object satisfies.
export const TeamDetail = z
  .strictObject({
    ...teamFields,
    rank_history: list(RankHistoryEntry).optional().openapi({
      description:
        "With `season`: its rank in each published unadjusted calculation in the season's current profile and division",
    }),
  })
  .openapi('TeamDetail');

export const Match = z
  .strictObject({
    match_id: z.string(),
    aggregate_id: z.string(),
    season: z.string(),
    played_on: day,
    home_team: z.string(),
    away_team: z.string(),
    home_goals: count.nullable(),
    away_goals: count.nullable(),
    neutral: z.boolean(),
    decided_by: z.string().nullable(),
    venue: z.string().nullable(),
    status: z.enum(['scheduled', 'recorded', 'corrected', 'cancelled']),
    corrections: count,
    cancellation_reason: z.string().nullable(),
    version: z.int().min(1),
  })
  .openapi('Match');

export const TeamMatches = z
  .strictObject({ team_id: z.string(), season: z.string().nullable(), matches: list(Match) })
  .openapi('TeamMatches');

export const CalculationSummary = z
  .strictObject({
    calculation_id: z.string(),
    season: z.string(),
    as_of: day.nullable(),
    profile: z.string(),
    division: z.string().nullable().openapi({ description: 'null: every division' }),
    variant,
    games_counted: count,
    last_game_on: day.nullable(),
    computed_at: instant,
    status: z.enum(['calculated', 'published', 'retracted']),
    published_at: instant.nullable(),
    retracted_at: instant.nullable(),
    retraction_reason: z.string().nullable(),
  })
  .openapi('CalculationSummary', { description: 'A calculation without its rankings' });

export const Seasons = z
  .strictObject({
    seasons: list(
      z.strictObject({
        season: z.string(),
        calculations: list(CalculationSummary).openapi({ description: 'Newest first' }),
      }),
    ).openapi({ description: 'The seasons with current rankings, newest first' }),
  })
  .openapi('Seasons');

/** What `GET /teams/{id}/weekly` takes. */
export const TeamWeeklyQuery = z.strictObject({
  season: season(SEASON_REQUIRED).openapi({ description: 'The season' }),
  profile: z
    .enum(profiles, profileRule)
    .optional()
    .openapi({ description: "The RPI profile; the season's current one when not given" }),
  division: division().optional().openapi({
    description: 'Count only games between teams of this division',
  }),
});

export const TeamWeekly = z
  .strictObject({
    team_id: z.string(),
    season: z.string(),
    profile: z.string(),
    division: z.string().nullable(),
    weeks: list(
      z.strictObject({
        week_end: day.openapi({
          description: "The week's Sunday; the last week ends on the season's last game day",
        }),
        games: count.openapi({ description: "The team's counted games up to that day" }),
        rank: z.int().min(1).nullable(),
        rpi: ratio,
        wp: ratio,
        owp: ratio,
        oowp: ratio,
        teams_rated: count,
      }),
    ).openapi({ description: 'From the week of the first game of the season to the last' }),
    opponents: list(
      z.strictObject({
        opponent: z.string(),
        games: count,
        wins: count,
        losses: count,
        ties: count,
        opponent_wp: ratio.openapi({
          description:
            "The opponent's winning percentage without its games against this team (null when it has no other game)",
        }),
        effect: z.number().openapi({
          description:
            "How far it moved this team's OWP from an average opponent's: (opponent_wp - OWP) x games / games averaged; > 0 helped, < 0 hurt. They add up to 0.",
        }),
      }),
    ).openapi({ description: 'Over the whole season, most helpful first' }),
  })
  .openapi('TeamWeekly');

export const SagaData = z
  .strictObject({
    season: z.string(),
    as_of: day.nullable(),
    profile: z.string(),
    division: z.string().nullable(),
    variant: variant
      .optional()
      .openapi({ description: 'Which RPI; absent in sagas of earlier releases (unadjusted)' }),
    adjustments: z
      .record(z.string(), z.unknown(), 'adjustments must be an object, e.g. {"tiers": {...}}')
      .nullish()
      .openapi({
        description: "With the adjusted variant: the values given for the profile's table",
      }),
    not_before: instant.nullable().openapi({ description: 'Not started before this instant' }),
    requested_at: instant.nullish(),
    reason: z.string().nullish(),
    calculation_date: day
      .nullable()
      .openapi({ description: 'The day the calculation speaks for: as_of, else the day asked' }),
    date_range: z.strictObject({ start: day.nullable(), end: day.nullable() }).openapi({
      description:
        'The first and last day of the games counted, once collect_matches ran; before that the end is as_of',
    }),
  })
  .openapi('RpiSagaData', { description: 'What an RPI calculation saga was asked to do' });

const attempts = count.openapi({ description: 'Attempts made so far' });
const lastError = z.string().nullable().openapi({ description: "The last attempt's error" });

export const SagaStep = z
  .strictObject({
    step_name: z.string(),
    status: z.enum(['pending', 'in_progress', 'retrying', 'completed', 'failed']),
    attempts,
    error: lastError,
    compensation_function: z.string().nullable(),
    compensation: z
      .strictObject({
        status: z.enum(['not_run', 'in_progress', 'retrying', 'completed', 'failed']),
        attempts,
        error: lastError,
      })
      .openapi({ description: "The step's compensation: its own status, attempts and error" }),
  })
  .openapi('SagaStep');

export const Saga = z
  .strictObject({
    saga_id: z.string(),
    saga_type: z.string().openapi({ example: 'rpi_calculation' }),
    status: z.enum(['in_progress', 'compensating', 'completed', 'compensated', 'failed']),
    data: SagaData,
    steps: list(SagaStep),
    failed_step: z
      .string()
      .nullable()
      .openapi({ description: 'The step whose failure started the compensation' }),
    error: lastError,
    output: z
      .strictObject({
        previous_calculation_id: z.string().nullable(),
        current: z
          .boolean()
          .optional()
          .openapi({ description: "Whether its rankings became the season's current ones" }),
        superseded_by: z.string().optional(),
      })
      .nullable()
      .openapi({ description: 'What the last step answered, once the saga completed' }),
    started_at: instant,
    updated_at: instant,
    finished_at: instant.nullable(),
    version: z.int().min(1),
  })
  .openapi('Saga');

/** What `GET /sagas` takes. */
const limitRule = 'limit must be a whole number from 1 to 500';
export const SagaListQuery = z.strictObject({
  // Digits only: Number() would take "0x10", "1e2", " 5" and "5.0" as well.
  limit: z
    .preprocess(
      (value) => (typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value),
      z.int(limitRule).min(1, limitRule).max(500, limitRule),
    )
    .optional()
    .openapi({ description: 'At most this many, newest first (default 50)', example: 50 }),
});

export const SagaSummaries = z
  .strictObject({
    sagas: list(
      z
        .strictObject({
          saga_id: z.string(),
          saga_type: z.string(),
          status: z.enum(['in_progress', 'compensating', 'completed', 'compensated', 'failed']),
          failed_step: z.string().nullable(),
          error: lastError,
          started_at: instant,
          updated_at: instant,
          finished_at: instant.nullable(),
          version: z.int().min(1),
        })
        .openapi('SagaSummary'),
    ).openapi({ description: 'Newest first' }),
  })
  .openapi('SagaSummaries');

export const SagaTimeline = z
  .strictObject({
    saga_id: z.string(),
    started_at: instant.nullable(),
    finished_at: instant.nullable().openapi({
      description:
        'When it completed, compensated or failed (a compensation given up on); null while it runs',
    }),
    entries: list(
      z
        .strictObject({
          step_name: z.string(),
          kind: z.enum(['step', 'compensation']),
          attempt: z.int().min(1),
          started_at: instant,
          ended_at: instant.nullable().openapi({ description: 'null while it runs' }),
          outcome: z.enum(['running', 'completed', 'failed', 'timed_out', 'held']).openapi({
            description:
              '`held`: an open circuit breaker held it before its work (it starts again at `retry_at`); `timed_out`: it ran past its deadline',
          }),
          error: z.string().nullable(),
          will_retry: z.boolean().nullable(),
          retry_at: instant.nullable(),
        })
        .openapi('SagaTimelineEntry'),
    ).openapi({ description: 'Each attempt of each step and compensation, in the order started' }),
  })
  .openapi('SagaTimeline');

/** The events the read models applied, as the `pipeline-stats` read model counts them. */
const appliedEvents = z
  .strictObject({
    total: count,
    by_type: z.record(z.string(), count),
    by_day: z.record(z.string(), z.record(z.string(), count)),
  })
  .openapi({
    description:
      "The events the read models have applied (the `pipeline-stats` read model's counts), by type and by the day of their timestamps: fewer than the store holds while the read models catch up, or when they gave up on an event (a dead letter). `matchstream status` counts both.",
  });

export const StoreOverview = z
  .strictObject({
    events: appliedEvents,
    size: z.strictObject({ items: count.nullable(), bytes: count.nullable() }).openapi({
      description:
        "The events table's item count and bytes as the table reports them (on AWS, DynamoDB updates them about every six hours); null where unknown",
    }),
    schemas: list(
      z.strictObject({
        event_type: z.string(),
        compatibility: z.string().openapi({
          description: "The event type's compatibility mode, which every version is checked by",
        }),
        versions: list(
          z.strictObject({ version: z.int().min(1), fingerprint: z.string(), latest: z.boolean() }),
        ),
      }),
    ),
  })
  .openapi('StoreOverview');

export const Consumers = z
  .strictObject({
    samples: list(
      z.strictObject({
        at: instant,
        consumers: list(
          z.strictObject({ name: z.string(), lag_ms: z.number().min(0), applied: count }),
        ),
      }),
    ).openapi({
      description:
        "The consumers' lag and applied counts over the last 10 minutes, oldest first. Locally: sampled every 5 s from the first request on, `applied` since the server started. On AWS: a sample a minute from the consumers' metrics (`IteratorLagMs` maximum, `EventsApplied` added up from the window's start), read from CloudWatch at most once a minute",
    }),
    read_models: list(
      z.strictObject({
        name: z.string(),
        active: z.int().min(1).openapi({ description: 'The generation the queries read' }),
        generations: list(
          z.strictObject({
            generation: z.int().min(1),
            status: z.enum(['building', 'live', 'dropped']),
            table: z.string(),
            projection_version: z.int().min(1),
            created_at: instant,
            built_at: instant.nullable(),
            progress: z
              .strictObject({ applied: count, lag_ms: z.number().min(0) })
              .nullable()
              .openapi({ description: "Its own consumer's figures, for a generation fed by one" }),
          }),
        ),
      }),
    ),
  })
  .openapi('Consumers');

const eventRef = z.strictObject({
  aggregate_id: z.string(),
  sequence: z.int().min(1),
  last_sequence: z.int().min(1),
});

export const DeadLetters = z
  .strictObject({
    letters: list(
      z
        .strictObject({
          id: z.string().openapi({ description: 'Stable while the letter exists' }),
          consumer: z.string().openapi({ description: 'Who gave up' }),
          kind: z.enum(['kinesis-records', 'bus-event', 'put-events-entry', 'unreadable-item']),
          error: z.string(),
          attempts: count,
          failed_at: instant,
          events: list(eventRef),
          unknown: z
            .string()
            .nullable()
            .openapi({ description: "Why the letter's events cannot be told, when they cannot" }),
        })
        .openapi('DeadLetter'),
    ),
    queues: list(
      z
        .strictObject({
          queue: z.string(),
          consumer: z
            .string()
            .openapi({ description: "Whose failures it keeps (`bus:<rule>`: a bus handler's)" }),
          messages: count.openapi({ description: 'Approximate number of messages waiting' }),
          in_flight: count.openapi({
            description: 'Approximate number of messages a reader holds at the moment',
          }),
          redriven: z.boolean().openapi({
            description: "Whether a redrive takes them (a scheduled function's are only listed)",
          }),
        })
        .openapi('DeadLetterQueue', {
          description:
            'A queue counted from its attributes, its messages not read (reading one would hide it from whoever redrives them). Listed on AWS; locally every place is read as letters.',
        }),
    ),
    notes: list(z.string()).openapi({ description: 'What the list leaves out' }),
    redrive: z
      .strictObject({
        api: z
          .boolean()
          .openapi({ description: 'Whether POST /dead-letters/redrive redrives them here' }),
        command: z.string().nullable().openapi({
          description: 'The command that lists and redrives every letter, where there is one',
        }),
      })
      .openapi('DeadLetterRedrive'),
  })
  .openapi('DeadLetters');

const idsRule = `ids must be a list of letter ids (from GET /dead-letters), each 1 to ${MAX_ID} characters`;
export const RedriveBody = z
  .strictObject({
    ids: z
      .array(z.string(idsRule).min(1, idsRule).max(MAX_ID, idsRule), idsRule)
      .min(1, 'ids must name at least one letter (or send {"all": true})')
      .max(1000, 'ids must name at most 1000 letters (or send {"all": true})')
      .optional()
      .openapi({ description: 'The letters to redrive (ids from GET /dead-letters)' }),
    all: z
      .literal(true, 'all must be true when given')
      .optional()
      .openapi({ description: 'Every letter, instead of `ids`' }),
  })
  .openapi('RedriveRequest', {
    description: 'Either `ids` or `"all": true`',
    example: { ids: ['3f2a9c1d0b7e'] },
  });

export const RedriveSummary = z
  .strictObject({
    dry_run: z.boolean().openapi({ description: 'Always false here' }),
    letters: count,
    redriven: list(
      z.strictObject({ id: z.string(), consumer: z.string(), through: z.string(), events: count }),
    ),
    still_failing: list(
      z.strictObject({ id: z.string(), consumer: z.string(), error: z.string(), attempts: count }),
    ),
    skipped: list(
      z.strictObject({
        id: z.string(),
        consumer: z.string(),
        why: z.string(),
        removed: z.boolean(),
      }),
    ),
  })
  .openapi('RedriveSummary', {
    description:
      'What the redrive did: letters re-applied and removed, failed again and kept (with the new reason), or skipped with why',
  });

export const Notification = z
  .strictObject({
    season: z.string(),
    kind: z.enum(['rank-changed', 'entered', 'left', 'retracted']),
    team: z.string().nullable(),
    rank: z.int().min(1).max(25).nullable(),
    previous_rank: z.int().min(1).max(25).nullable(),
    rpi: ratio,
    calculation_id: z.string(),
    at: instant,
  })
  .openapi('Notification');

export const Notifications = z
  .strictObject({ season: z.string(), notifications: list(Notification) })
  .openapi('Notifications');

const rate = z.number().min(0).max(1).nullable();

export const Health = z
  .strictObject({
    status: z
      .enum(['ok', 'degraded'])
      .openapi({ description: 'degraded while dead letters wait or a circuit breaker is open' }),
    consumers: list(
      z.strictObject({ name: z.string(), lag_ms: z.number().min(0), applied: count }),
    ),
    dead_letters: count,
    breakers: list(
      z
        .strictObject({
          name: z.string().openapi({ description: '<handler or consumer>/<dependency>' }),
          state: z.enum(['closed', 'open', 'half-open']),
          opened_at: instant.optional(),
          half_open_at: instant.optional().openapi({ description: 'when it lets a trial through' }),
          reason: z.string().optional().openapi({ description: 'the failure that opened it' }),
          opened: count.optional(),
          half_open_trials: count.optional(),
          closed: count.optional(),
          held: count.optional().openapi({ description: 'calls held back while open' }),
          open_ms: z.number().min(0).optional(),
        })
        .openapi('Breaker'),
    ),
    events: appliedEvents,
    sagas: z.strictObject({
      total: count,
      running: count,
      completed: count,
      compensated: count,
      failed: count,
      completion_rate: rate,
      compensation_rate: rate,
      failure_rate: rate,
      mean_duration_ms: z.int().nullable(),
    }),
  })
  .openapi('Health');

export const OpenApiDocument = z
  .strictObject({
    openapi: z.literal('3.1.0'),
    info: z.strictObject({
      title: z.string(),
      version: z.string(),
      description: z.string(),
    }),
    servers: z.array(
      z.strictObject({
        url: z.string(),
        description: z.string(),
        variables: z.record(
          z.string(),
          z.strictObject({ default: z.string(), description: z.string() }),
        ),
      }),
    ),
    tags: z.array(z.strictObject({ name: z.string(), description: z.string() })),
    paths: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))),
    components: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.unknown()))),
    webhooks: z.record(z.string(), z.unknown()),
  })
  .openapi('OpenApiDocument', {
    description: 'This document (OpenAPI 3.1; see the OpenAPI Specification for the objects)',
  });
