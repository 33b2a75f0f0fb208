import { describe, expect, it } from 'vitest';
import { EmbeddedRuntime } from '../../../stream/local/EmbeddedRuntime.js';
import { StoreStoppedError } from '../../../stream/StoreError.js';
import { matchRecorded } from '../../support/registry.js';

const fast = { consumerDefaults: { pollIntervalMs: 20, shardRefreshMs: 200 } };

type Next = (args: unknown) => Promise<unknown>;

describe('an embedded runtime whose store stops under it', () => {
  it('stops settling at once, failing with the store, and says which store stopped first', async () => {
    // Prepare: the change stream's server refuses every request from a point on, as a
    // server thread whose disk filled does (`StoreStoppedError`, in its transport).
    const stop = new StoreStoppedError(
      "the change stream's store",
      'IO error: kinesis/000005.log: No space left on device',
    );
    let stopped = false;
    const runtime = await EmbeddedRuntime.start({
      memory: true,
      ...fast,
      configureClient: (client, service) => {
        if (service !== 'kinesis') return;
        (client.middlewareStack as { add: (m: unknown, o: unknown) => void }).add(
          (next: Next) => async (args: unknown) => {
            if (stopped) throw stop;
            return next(args);
          },
          { step: 'initialize', name: 'storeStopped' },
        );
      },
    });
    try {
      const applied: string[] = [];
      await runtime.addConsumer('log', async (events) => {
        for (const e of events) applied.push(e.aggregate_id);
      });
      await runtime.store.append('match:before', 0, [
        { event_type: 'MatchRecorded', data: matchRecorded('before') },
      ]);
      await runtime.settle();
      stopped = true;
      await runtime.store.append('match:after', 0, [
        { event_type: 'MatchRecorded', data: matchRecorded('after') },
      ]);

      // Act: a settle that would wait ten minutes for a stalled pipeline.
      const settled = runtime.settle(600_000);

      // Assess
      await expect(settled).rejects.toBe(stop);
      await expect(runtime.storeStopped).resolves.toBe(stop);
      expect(applied).toEqual(['match:before']);
    } finally {
      await runtime.stop();
    }
  }, 30_000);
});
