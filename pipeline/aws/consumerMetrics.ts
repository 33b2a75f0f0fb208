import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { ConsumerSample } from '../../api/consumerSamples.js';

/** The deployed stream's consumers, as their functions name themselves in their metrics. */
export const CONSUMER_NAMES = ['read-models', 'bus-router', 'sagas'] as const;

/** The window `GET /consumers` shows, and how long an answer is reused. */
const WINDOW_MS = 10 * 60_000;
const REUSE_MS = 60_000;

/**
 * The deployed consumers over the last 10 minutes, from the metrics their functions emit
 * (namespace `matchstream`, dimensions `service` and `consumer`): each minute's
 * `IteratorLagMs` (maximum) as the lag, and `EventsApplied` (sum) added up from the window's
 * start as the applied count. One GetMetricData call a minute at most, whoever asks: the
 * route is public, and CloudWatch bills each metric asked for. A minute without a lag figure
 * (nothing arrived) counts as no lag.
 */
export function cloudWatchConsumerSamples(
  cloudWatch: CloudWatchClient,
  consumers: () => Promise<readonly string[]>,
  now: () => number = Date.now,
): () => Promise<ConsumerSample[]> {
  let kept: { at: number; samples: Promise<ConsumerSample[]> } | undefined;
  return () => {
    const at = now();
    if (!kept || at - kept.at >= REUSE_MS) {
      const samples = read(cloudWatch, consumers, at);
      kept = { at, samples };
      // A failed read is not kept: the next request asks again.
      samples.catch(() => {
        if (kept?.samples === samples) kept = undefined;
      });
    }
    return kept.samples;
  };
}

async function read(
  cloudWatch: CloudWatchClient,
  consumers: () => Promise<readonly string[]>,
  end: number,
): Promise<ConsumerSample[]> {
  const names = await consumers();
  const stat = (id: string, consumer: string, metric: string, statistic: string) =>
    ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'matchstream',
          MetricName: metric,
          Dimensions: [
            { Name: 'service', Value: 'matchstream' },
            { Name: 'consumer', Value: consumer },
          ],
        },
        Period: 60,
        Stat: statistic,
      },
      ReturnData: true,
    }) satisfies MetricDataQuery;
  const queries = names.flatMap((name, i) => [
    stat(`lag${i}`, name, 'IteratorLagMs', 'Maximum'),
    stat(`applied${i}`, name, 'EventsApplied', 'Sum'),
  ]);
  const series = new Map<string, Map<number, number>>();
  // On whole minutes, as CloudWatch advises for a period of a minute: each figure then falls
  // in the minute it was emitted in.
  const to = Math.ceil(end / 60_000) * 60_000;
  let token: string | undefined;
  do {
    const page = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(to - WINDOW_MS),
        EndTime: new Date(to),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: queries,
        NextToken: token,
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const values = series.get(result.Id ?? '') ?? new Map<number, number>();
      (result.Timestamps ?? []).forEach((t, i) => {
        values.set(t.getTime(), result.Values?.[i] ?? 0);
      });
      series.set(result.Id ?? '', values);
    }
    token = page.NextToken;
  } while (token);
  const minutes = [...new Set([...series.values()].flatMap((v) => [...v.keys()]))].sort(
    (a, b) => a - b,
  );
  const applied = names.map(() => 0);
  return minutes.map((minute) => ({
    at: new Date(minute).toISOString(),
    consumers: names.map((name, i) => {
      applied[i] = (applied[i] ?? 0) + (series.get(`applied${i}`)?.get(minute) ?? 0);
      return {
        name,
        lag_ms: series.get(`lag${i}`)?.get(minute) ?? 0,
        applied: applied[i] ?? 0,
      };
    }),
  }));
}
