import { afterEach, describe, expect, it } from 'vitest';
import { busRouter } from '../../../stream/buses/busRouter.js';
import { EmbeddedRuntime } from '../../../stream/local/EmbeddedRuntime.js';
import { matchRecorded } from '../../support/registry.js';

const fast = { memory: true, consumerDefaults: { pollIntervalMs: 20, shardRefreshMs: 200 } };
let runtime: EmbeddedRuntime | undefined;

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

async function appendResults(into: EmbeddedRuntime, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await into.store.append(`match:s${i}`, 0, [
      { event_type: 'MatchRecorded', data: matchRecorded(`s${i}`) },
    ]);
}

describe('the embedded runtime settling', () => {
  it('waits out one batch longer than the stall window while its bus deliveries go on', async () => {
    // Prepare: one router batch of every record, each delivery slow, the batch far longer
    // than the window and each delivery far shorter.
    runtime = await EmbeddedRuntime.start({ ...fast, shards: 1 });
    let delivered = 0;
    runtime.buses.soccer.register({
      name: 'slow',
      pattern: { 'detail-type': ['MatchRecorded'] },
      handler: async () => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        delivered++;
      },
    });
    await appendResults(runtime, 48);
    await runtime.relay.drain();
    await runtime.addConsumer('router', busRouter(runtime.publisher, {}), { batchSize: 10_000 });

    // Act
    const started = Date.now();
    await runtime.settle(1000);
    const took = Date.now() - started;

    // Assess: 48 deliveries, 8 at a time, 250 ms each.
    expect(delivered).toBe(48);
    expect(took).toBeGreaterThan(1000);
    expect(runtime.consumers.get('router')?.mapping.stats.batches).toBe(1);
  });

  it('fails in a line naming the consumer once nothing in the pipeline moves', async () => {
    // Prepare
    runtime = await EmbeddedRuntime.start(fast);
    let release = () => {};
    const hung = new Promise<void>((resolve) => (release = resolve));
    await runtime.addConsumer('stuck', () => hung);
    await appendResults(runtime, 2);

    // Act
    const outcome = await runtime.settle(1000).then(
      () => 'settled',
      (error: Error) => error.message,
    );
    release();

    // Assess
    expect(outcome).toBe('consumer stuck not idle, and nothing moved for 1000 ms');
  });
});
