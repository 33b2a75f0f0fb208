import { afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import type { Log } from '../../../stream/Log.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir('bus-dead-letter-log-');
let pipeline: EmbeddedPipeline | undefined;
afterEach(async () => {
  await pipeline?.stop();
  pipeline = undefined;
});

/** A log that keeps its records, by level. */
function keptLog() {
  const records: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at =
    (level: string) =>
    (fields: object, message: string): void =>
      void records.push({ level, fields: fields as Record<string, unknown>, message });
  const log: Log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, records };
}

describe('a bus event dead-lettered in the embedded runtime', () => {
  it('is said in the log as an error, naming the rule, the event and why, never its data', async () => {
    // Prepare: a rule of the metadata bus whose target fails every attempt.
    const { log, records } = keptLog();
    pipeline = await startPipeline({ dataDir: tmp.path('data'), log, retryDelayMs: 1 });
    pipeline.runtime.buses.metadata.register({
      name: 'refusing-rule',
      pattern: { 'detail-type': ['TeamRegistered'] },
      handler: async () => {
        throw new Error('the directory refused the write');
      },
    });

    // Act
    await pipeline.runtime.store.append('team:Ash', 0, [
      {
        event_type: 'TeamRegistered',
        data: { team_id: 'Ash', name: 'Ash', conference: 'Secret', division: 'I', region: null },
      },
    ]);
    pipeline.runtime.relay.notify();
    await pipeline.runtime.settle();

    // Assert
    const said = records.filter((r) => r.level === 'error');
    expect(said).toEqual([
      {
        level: 'error',
        message: 'bus event dead-lettered',
        fields: {
          consumer: 'bus:matchstream-metadata/refusing-rule',
          event_type: 'TeamRegistered',
          aggregate_id: 'team:Ash',
          attempts: 3,
          error: 'the directory refused the write',
        },
      },
    ]);
    expect(JSON.stringify(records)).not.toContain('Secret');
  });

  it('is said when the bus cannot take the entry at all, too large even as a claim check', async () => {
    // Prepare
    const { log, records } = keptLog();
    pipeline = await startPipeline({ dataDir: tmp.path('large'), log });

    // Act: an event whose own fields pass PutEvents' limit.
    await pipeline.runtime.store.append('team:Birch', 0, [
      {
        event_type: 'TeamRegistered',
        correlation_id: 'x'.repeat(262_144),
        data: { team_id: 'Birch', name: 'Birch', conference: null, division: 'I', region: null },
      },
    ]);
    pipeline.runtime.relay.notify();
    await pipeline.runtime.settle();

    // Assert
    expect(records.filter((r) => r.level === 'error')).toEqual([
      {
        level: 'error',
        message: 'bus event dead-lettered',
        fields: {
          consumer: 'publish:matchstream-metadata',
          event_type: 'TeamRegistered',
          aggregate_id: 'team:Birch',
          attempts: 0,
          error: expect.stringMatching(/^EntryTooLarge: the entry is \d+ bytes/),
        },
      },
    ]);
  });
});
