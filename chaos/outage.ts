/**
 * A dependency out for a stretch: every call to the read-model tables fails with HTTP 503 from
 * the middle third of a season's feed on until `outageMs` after it is ingested, then they
 * recover (some 4.2 to 4.5 s for 12 teams, 27 s for 1,000). Run twice on the same season: with
 * the circuit breakers, which must open, hold the work (nothing dead-lettered for the outage),
 * close again and end with every event applied once and every read model equal to a rebuild;
 * and with the breakers kept from opening, to count what the tables would have seen without
 * them. Both counts go in the summary; the breakers' must be far lower.
 */
import { type EmbeddedPipeline, startPipeline } from '../pipeline/embeddedPipeline.js';
import { sendThroughSdk } from '../stream/aws/directJson.js';
import type { BreakerSettings } from '../stream/breaker/CircuitBreaker.js';
import { seasonFeeds } from './crash.js';
import { ingestFeed, reconcile } from './reconcile.js';
import { seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface OutageOptions {
  readonly seed: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
  /** How long the tables are out. @default 4000 */
  readonly outageMs?: number;
  readonly log?: (line: string) => void;
}

/** The tables that go out: every read model's generations. */
const OUT = /^matchstream-rm-/;

/** The outage, switched on and off by the scenario, and what the tables saw meanwhile. */
interface Outage {
  down: boolean;
  /** Requests that reached the tables while they were out (the SDK's retries included). */
  calls: number;
  /** How long the tables were out (ms): the middle feed's ingest and `outageMs` after it. */
  ms: number;
}

interface Stack {
  add(
    middleware: (
      next: (args: { input: unknown }) => Promise<unknown>,
    ) => (args: { input: unknown }) => Promise<unknown>,
    options: { step: string; name: string },
  ): void;
}

/** Fails each request to a table of `OUT` with a 503 while the outage lasts (inside the SDK's retries). */
function addOutage(client: { middlewareStack: unknown }, outage: Outage): void {
  // Requests handed to the server thread directly would not reach this step.
  sendThroughSdk(client as { middlewareStack: Stack & { remove(name: string): boolean } });
  (client.middlewareStack as Stack).add(
    (next) => async (args) => {
      const input = args.input as { TableName?: unknown; RequestItems?: Record<string, unknown> };
      const tables =
        typeof input.TableName === 'string'
          ? [input.TableName]
          : Object.keys(input.RequestItems ?? {});
      if (outage.down && tables.some((t) => OUT.test(t))) {
        outage.calls++;
        const error = new Error('injected outage: the read-model tables are unavailable');
        Object.assign(error, {
          name: 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
        });
        throw error;
      }
      return next(args);
    },
    { step: 'deserialize', name: 'chaosOutage' },
  );
}

/** Breakers that open fast and try again soon, so a short outage shows every transition. */
const QUICK: Partial<BreakerSettings> = { halfOpenAfterMs: 300, maxHalfOpenAfterMs: 1_000 };
/** Breakers that never open: the run without them. */
const NEVER: Partial<BreakerSettings> = {
  consecutiveFailures: Number.MAX_SAFE_INTEGER,
  minimumCalls: Number.MAX_SAFE_INTEGER,
};

async function outageRun(
  options: OutageOptions,
  settings: Partial<BreakerSettings>,
  finish: (pipeline: EmbeddedPipeline) => Promise<void>,
): Promise<{ outage: Outage; pipeline: EmbeddedPipeline; stop: () => Promise<void> }> {
  const rng = seededRng(options.seed);
  const { chunks } = seasonFeeds({ ...options, chunks: 3 }, rng);
  const outage: Outage = { down: false, calls: 0, ms: 0 };
  const pipeline = await startPipeline({
    memory: true,
    debounceMs: 300,
    breakers: settings,
    configureClient: (client, kind) => {
      if (kind === 'dynamodb') addOutage(client, outage);
    },
  });
  const [first, during, after] = chunks;
  await ingestFeed(pipeline, first ?? []);
  await pipeline.runtime.settle();
  outage.down = true;
  const down = performance.now();
  await ingestFeed(pipeline, during ?? []);
  await new Promise((resolve) => setTimeout(resolve, options.outageMs ?? 4_000));
  outage.down = false;
  outage.ms = Math.round(performance.now() - down);
  await ingestFeed(pipeline, after ?? []);
  await finish(pipeline);
  return { outage, pipeline, stop: () => pipeline.stop() };
}

export async function outageScenario(options: OutageOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  // Without the breakers first: only what the tables saw counts.
  const bare = await outageRun(options, NEVER, (p) => p.runtime.settle());
  const withoutBreakers = {
    calls: bare.outage.calls,
    dead_lettered: (await bare.pipeline.runtime.deadLetters.list()).length,
    out_ms: bare.outage.ms,
  };
  await bare.stop();
  log(
    `outage without breakers: the tables saw ${withoutBreakers.calls} calls while out (${withoutBreakers.out_ms} ms), ${withoutBreakers.dead_lettered} dead letters`,
  );

  const rng = seededRng(options.seed);
  const { chunks, final } = seasonFeeds({ ...options, chunks: 3 }, rng);
  let found: Awaited<ReturnType<typeof reconcile>> | undefined;
  const guarded = await outageRun(options, QUICK, async (p) => {
    found = await reconcile(p, chunks, final, log);
  });
  try {
    const breakers = guarded.pipeline.breakers.snapshots();
    const letters = await guarded.pipeline.runtime.deadLetters.list();
    for (const l of letters) log(`letter ${l.consumer}: ${l.error}`);
    const opened = breakers.reduce((n, b) => n + b.opened, 0);
    const closed = breakers.reduce((n, b) => n + b.closed, 0);
    const held = Object.fromEntries(
      [...guarded.pipeline.runtime.consumers].map(([name, c]) => [name, c.mapping.stats.held]),
    );
    const withBreakers = {
      calls: guarded.outage.calls,
      dead_lettered: letters.length,
      out_ms: guarded.outage.ms,
    };
    log(
      `outage with breakers: the tables saw ${withBreakers.calls} calls while out (${withBreakers.out_ms} ms); opened ${opened}, closed ${closed}, ${letters.length} dead letters`,
    );
    const result = found?.result;
    if (!result) throw new Error('the run with breakers was not reconciled');
    const fewer = withBreakers.calls * 2 <= withoutBreakers.calls;
    return {
      scenario: 'dependency-outage',
      seed: options.seed,
      ...result,
      passed:
        result.passed &&
        letters.length === 0 &&
        opened > 0 &&
        closed > 0 &&
        breakers.every((b) => b.state === 'closed') &&
        fewer,
      // The calls answered with a 503, in both runs.
      faults_injected: withBreakers.calls + withoutBreakers.calls,
      details: {
        ...found?.details,
        // Out from the middle feed on, and this long after it (`out_ms`: how long in all).
        outage_ms: options.outageMs ?? 4_000,
        with_breakers: withBreakers,
        without_breakers: withoutBreakers,
        batches_held: held,
        breakers: breakers.filter((b) => b.opened > 0),
      },
    };
  } finally {
    await guarded.stop();
  }
}
