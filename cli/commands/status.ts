import type { Command } from 'commander';
import { READ_MODELS } from '../../projections/readModels/index.js';
import { eventCounts } from '../../projections/readModels/pipelineStats.js';
import { lastSaga, sagaMetrics } from '../../projections/readModels/sagas.js';
import { consumerLag } from '../../stream/local/consumerLag.js';
import { CHANGES_STREAM, EmbeddedRuntime } from '../../stream/local/EmbeddedRuntime.js';
import { DEFAULT_DATA_DIR } from '../../stream/local/openEventStore.js';
import { activeReadModel } from '../activeReadModel.js';
import { write } from '../write.js';

interface StatusFlags {
  readonly dataDir: string;
  readonly json?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('events stored, lag per consumer, dead letters and the last saga')
    .option('--data-dir <dir>', 'the pipeline state to look at', DEFAULT_DATA_DIR)
    .option('--json', 'print JSON')
    .action(async (flags: StatusFlags) => {
      const runtime = await EmbeddedRuntime.start({ dataDir: flags.dataDir, relay: false });
      try {
        const stats = await activeReadModel(runtime.dynamo, 'pipeline-stats');
        const sagas = await activeReadModel(runtime.dynamo, 'sagas');
        const letters = await runtime.deadLetters.list();
        const byConsumer: Record<string, number> = {};
        for (const l of letters) byConsumer[l.consumer] = (byConsumer[l.consumer] ?? 0) + 1;
        const report = {
          data_dir: flags.dataDir,
          events: await eventCounts(stats),
          read_models: await Promise.all(
            READ_MODELS.map(async (p) => ({
              name: p.name,
              version: p.version,
              table: (await activeReadModel(runtime.dynamo, p.name)).table,
            })),
          ),
          consumers: await consumerLag(runtime.dynamo, runtime.kinesis, CHANGES_STREAM),
          dead_letters: { total: letters.length, by_consumer: byConsumer },
          last_saga: (await lastSaga(sagas)) ?? null,
          sagas: await sagaMetrics(sagas),
        };
        if (flags.json) {
          await write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const lines = [
          `matchstream status of ${flags.dataDir}`,
          `  events      ${report.events.total} (${
            Object.entries(report.events.by_type)
              .map(([t, n]) => `${t} ${n}`)
              .join(', ') || 'none'
          })`,
          ...report.consumers.map(
            (c) =>
              `  consumer    ${c.consumer}: ${c.lag_ms === 0 ? 'caught up' : `${c.lag_ms} ms behind on ${c.shards_behind} shard(s)`}`,
          ),
          `  dead letters ${report.dead_letters.total}${
            letters.length > 0
              ? ` (${Object.entries(byConsumer)
                  .map(([c, n]) => `${c} ${n}`)
                  .join(', ')}; read them with "matchstream inspect --dead-letters")`
              : ''
          }`,
          `  last saga   ${report.last_saga ? `${report.last_saga.saga_id} ${report.last_saga.status}` : 'none'}`,
          `  sagas       ${report.sagas.total} (${report.sagas.completed} completed, ${report.sagas.compensated} compensated, ${report.sagas.failed} failed, ${report.sagas.running} running; ` +
            `completion rate ${report.sagas.completion_rate ?? '-'}, mean ${report.sagas.mean_duration_ms ?? '-'} ms)`,
          '',
        ];
        await write(lines.join('\n'));
      } finally {
        await runtime.stop();
      }
    });
}
