import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudWatchConsumerSamples } from '../../../pipeline/aws/consumerMetrics.js';
import { clientConfig } from '../../../stream/aws/clientConfig.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';

// GET /consumers on AWS: the consumers' own metrics read back from CloudWatch (moto_server).
describe.runIf(motoAvailable())("the deployed consumers' lag over the last minutes", () => {
  let moto: Moto;
  let cloudWatch: CloudWatchClient;

  beforeAll(async () => {
    moto = await startMoto();
    cloudWatch = new CloudWatchClient(clientConfig({ endpoint: moto.endpoint }));
  }, 60_000);
  afterAll(async () => {
    cloudWatch?.destroy();
    await moto?.stop();
  });

  it('reads each minute of IteratorLagMs and EventsApplied per consumer, at most once a minute', async () => {
    // Prepare: three minutes of figures as the consumers' functions emit them.
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    const minute = (n: number) => new Date(end - (3 - n) * 60_000);
    const figure = (consumer: string, name: string, at: Date, value: number) => ({
      MetricName: name,
      Dimensions: [
        { Name: 'service', Value: 'matchstream' },
        { Name: 'consumer', Value: consumer },
      ],
      Timestamp: at,
      Value: value,
      Unit: name === 'IteratorLagMs' ? ('Milliseconds' as const) : ('Count' as const),
    });
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: 'matchstream',
        MetricData: [
          figure('read-models', 'IteratorLagMs', minute(0), 900),
          figure('read-models', 'EventsApplied', minute(0), 40),
          figure('read-models', 'IteratorLagMs', minute(1), 300),
          figure('read-models', 'EventsApplied', minute(1), 60),
          figure('sagas', 'EventsApplied', minute(2), 2),
        ],
      }),
    );
    let asked = 0;
    let clock = end + 30_000;
    const samples = cloudWatchConsumerSamples(
      cloudWatch,
      async () => {
        asked++;
        return ['read-models', 'sagas'];
      },
      () => clock,
    );

    // Act
    const first = await samples();
    clock += 20_000;
    const again = await samples();

    // Assess: oldest first, applied added up from the window's start, a minute without a lag
    // figure as no lag; the second request within the minute reused the first answer.
    expect(first.map((s) => s.at)).toEqual([0, 1, 2].map((n) => minute(n).toISOString()));
    expect(first.map((s) => s.consumers)).toEqual([
      [
        { name: 'read-models', lag_ms: 900, applied: 40 },
        { name: 'sagas', lag_ms: 0, applied: 0 },
      ],
      [
        { name: 'read-models', lag_ms: 300, applied: 100 },
        { name: 'sagas', lag_ms: 0, applied: 0 },
      ],
      [
        { name: 'read-models', lag_ms: 0, applied: 100 },
        { name: 'sagas', lag_ms: 0, applied: 2 },
      ],
    ]);
    expect(again).toEqual(first);
    expect(asked).toBe(1);
  });
});
