/**
 * Injected AWS faults: the embedded pipeline runs in process with every DynamoDB and Kinesis
 * call subject to throttling, server errors, timeouts, lost answers and partial batch failures
 * (`UnprocessedItems`, `UnprocessedKeys`, `FailedRecordCount`) at the given rates, while a
 * season and its corrections are ingested. It must converge to exactly what a run without
 * faults gives: the same reconciliation as the crash scenario.
 */
import { startPipeline } from '../pipeline/embeddedPipeline.js';
import { seasonFeeds } from './crash.js';
import { type FaultCounts, type FaultRates, injectFaults } from './faultInjection.js';
import { ingestFeed, reconcile } from './reconcile.js';
import { seededRng } from './rng.js';
import type { ScenarioResult } from './summary.js';

export interface AwsFaultsOptions {
  readonly seed: number;
  readonly teams: number;
  readonly gamesPerTeam: number;
  readonly rates: FaultRates;
  readonly log?: (line: string) => void;
}

export async function awsFaultsScenario(options: AwsFaultsOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const rng = seededRng(options.seed);
  const { chunks, final } = seasonFeeds({ ...options, chunks: 3 }, rng);
  const clients: Parameters<typeof injectFaults>[0][] = [];
  const pipeline = await startPipeline({
    memory: true,
    debounceMs: 300,
    configureClient: (client) => clients.push(client),
  });
  try {
    // Faults from here on: the runtime is up, its tables made.
    const counts: FaultCounts[] = clients.map((c) => injectFaults(c, options.rates, rng));
    for (const chunk of chunks) {
      const summary = await ingestFeed(pipeline, chunk);
      if (summary.failed > 0) log(`${summary.failed} rows could not be stored`);
    }
    const found = await reconcile(pipeline, chunks, final, log);
    const injected = counts.reduce(
      (all, c) => {
        for (const [k, v] of Object.entries(c)) all[k] = (all[k] ?? 0) + v;
        return all;
      },
      {} as Record<string, number>,
    );
    return {
      scenario: 'aws-faults',
      seed: options.seed,
      ...found.result,
      passed: found.result.passed && Object.values(injected).every((n) => n > 0),
      faults_injected: Object.values(injected).reduce((n, k) => n + k, 0),
      details: { ...found.details, rates: options.rates, injected },
    };
  } finally {
    await pipeline.stop();
  }
}
