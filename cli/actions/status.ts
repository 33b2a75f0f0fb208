import { READ_MODELS_CONSUMER } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import type { DocumentStore } from '../../projections/DocumentStore.js';
import { eventCounts, uncounted } from '../../projections/readModels/pipelineStats.js';
import { lastSaga, sagaMetrics } from '../../sagas/sagasReadModel.js';
import { sharedSnapshot } from '../../stream/breaker/BreakerStateStore.js';
import type { DeadLetter } from '../../stream/consumer/DeadLetterQueue.js';
import { eventDaysOfRecord } from '../../stream/redrive/Letter.js';
import {
  activeDocuments,
  activeGeneration,
  type FolderReader,
  lagOrReason,
  streamUnreadable,
} from '../folder/FolderReader.js';
import { withDataFolder } from '../folder/withDataFolder.js';
import { counted } from '../output/plural.js';
import { statusLine } from '../progress.js';
import { write } from '../write.js';

export interface StatusFlags {
  readonly dataDir: string;
  readonly json?: boolean;
  /** False with --no-progress. */
  readonly progress?: boolean;
}

/** `matchstream status`: what a data folder holds and how far its consumers are. */
export async function runStatus(flags: StatusFlags): Promise<void> {
  const line = statusLine(flags.progress !== false && !flags.json);
  let report: StatusReport;
  try {
    report = {
      data_dir: flags.dataDir,
      ...(await withDataFolder(flags.dataDir, (reader) =>
        statusReport(reader, (items) =>
          line.show(`counting the stored events: ${items.toLocaleString('en-US')} items read`),
        ),
      )),
    };
  } finally {
    line.stop();
  }
  await write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
  // What the folder's tables hold was shown; the damaged part is an error all the same.
  if (report.stream_unreadable !== undefined) throw streamUnreadable(report.stream_unreadable);
}

/** Everything `status` reports of a data folder (`onItems`: the events table read so far). */
export async function statusReport(reader: FolderReader, onItems?: (items: number) => void) {
  const statsStore = await activeDocuments(reader, 'pipeline-stats');
  const [events, stats, sagas, letters, lag, readModels, breakers, unrelayed] = await Promise.all([
    reader.storedEvents(onItems),
    eventCounts(statsStore),
    activeDocuments(reader, 'sagas'),
    reader.deadLetters(),
    lagOrReason(reader),
    Promise.all(
      READ_MODELS.map(async (p) => ({
        name: p.name,
        version: p.version,
        table: (await activeGeneration(reader, p.name)).table,
      })),
    ),
    reader.breakers(),
    reader.unrelayedCommits(),
  ]);
  const byConsumer: Record<string, number> = {};
  for (const l of letters) byConsumer[l.consumer] = (byConsumer[l.consumer] ?? 0) + 1;
  const deadLettered = await givenUp(letters, statsStore);
  return {
    events,
    applied: {
      total: stats.total,
      // Stored, neither applied nor given up on: what the read models' consumer has still to
      // read. A pipeline does not apply an event the read models dead-lettered: a redrive does.
      pending: Math.max(
        events.total + (events.archived?.events ?? 0) - stats.total - deadLettered,
        0,
      ),
      dead_lettered: deadLettered,
    },
    read_models: readModels,
    ...lag,
    // Stored, not on the change stream yet (ingested while no pipeline ran): no consumer has
    // seen them, whatever its lag says.
    unrelayed_commits: unrelayed,
    dead_letters: { total: letters.length, by_consumer: byConsumer },
    breakers: breakers.map((b) => ({
      ...sharedSnapshot(b),
      updated_at: new Date(b.updated_at).toISOString(),
    })),
    last_saga: (await lastSaga(sagas)) ?? null,
    sagas: await sagaMetrics(sagas),
  };
}

/**
 * How many stored events the read models gave up on and have not applied: those of the
 * letters of the consumer that feeds them (or of the event counts' own rebuild or generation
 * consumer) that the event counts do not hold. A letter the read models failed on may have been
 * counted all the same (the read models are applied side by side): it is not one of them.
 */
async function givenUp(letters: readonly DeadLetter[], stats: DocumentStore): Promise<number> {
  const seen = new Set<string>();
  const events = letters
    .filter(
      (l) =>
        l.consumer === READ_MODELS_CONSUMER ||
        /^(rebuild:pipeline-stats|read-model:pipeline-stats:g\d+)$/.test(l.consumer),
    )
    .flatMap((l) => (l.record ? eventDaysOfRecord(l.record) : []))
    .filter((e) => {
      const key = `${e.aggregate_id}\u0000${e.sequence}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  return (await uncounted(stats, events)).length;
}

type StatusReport = Awaited<ReturnType<typeof statusReport>> & { data_dir: string };

function describe(report: StatusReport): string {
  const byType = Object.entries(report.events.by_type)
    .map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`)
    .join(', ');
  const { sagas } = report;
  const archived = report.events.archived;
  const lines = [
    `matchstream status of ${report.data_dir}`,
    `  events       ${report.events.total.toLocaleString('en-US')} stored${archived ? ' in the table' : ''}${byType ? ` (${byType})` : ''}${
      archived
        ? `; ${archived.events.toLocaleString('en-US')} more of expired seasons in the archive (${Object.entries(
            archived.by_season,
          )
            .map(([season, n]) => `${season} ${n.toLocaleString('en-US')}`)
            .join(', ')})`
        : ''
    }`,
    `  read models  ${report.applied.total.toLocaleString('en-US')} applied${
      report.applied.pending === 0
        ? ''
        : `, ${report.applied.pending.toLocaleString('en-US')} pending (applied when a pipeline runs on the folder: start, serve)`
    }${
      report.applied.dead_lettered === 0
        ? ''
        : `, ${report.applied.dead_lettered.toLocaleString('en-US')} dead-lettered (see "matchstream dead-letters list")`
    }`,
    ...(report.consumers === null
      ? ['  consumers    unknown: the change stream cannot be read']
      : report.consumers.length === 0
        ? ['  consumers    none has run on this folder yet']
        : report.consumers.map(
            (c) =>
              `  consumer     ${c.consumer}: ${report.unrelayed_commits ? `${counted(report.unrelayed_commits, 'commit')} behind, not relayed yet` : c.lag_ms === 0 ? 'caught up' : `${c.lag_ms} ms behind on ${counted(c.shards_behind, 'shard')}`}`,
          )),
    `  dead letters ${report.dead_letters.total}${
      report.dead_letters.total > 0
        ? ` (${Object.entries(report.dead_letters.by_consumer)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')}; read them with "matchstream inspect --dead-letters")`
        : ''
    }`,
    ...(report.breakers.length === 0
      ? ['  breakers     none has opened']
      : report.breakers.map(
          (b) =>
            `  breaker      ${b.name}: ${
              b.state === 'open'
                ? `open since ${b.opened_at ?? '?'}, work held; next trial ${b.half_open_at ?? '?'}${b.reason ? ` (${b.reason})` : ''}`
                : `closed (since ${b.updated_at})`
            }`,
        )),
    `  last saga    ${report.last_saga ? `${report.last_saga.saga_id} ${report.last_saga.status}` : 'none'}`,
    `  sagas        ${counted(sagas.total, 'saga')} (${sagas.completed} completed, ${sagas.compensated} compensated, ${sagas.failed} failed, ${sagas.running} running; ` +
      `completion rate ${sagas.completion_rate ?? '-'}, compensation rate ${sagas.compensation_rate ?? '-'}, ` +
      `failure rate ${sagas.failure_rate ?? '-'}, mean ${sagas.mean_duration_ms ?? '-'} ms)`,
    '',
  ];
  return lines.join('\n');
}
