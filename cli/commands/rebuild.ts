import { type Command, InvalidArgumentError, Option } from 'commander';
import { startPipeline } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import { DEFAULT_FLUSH_MB, type RebuildSummary, rebuildReadModel } from '../../pipeline/rebuild.js';
import { FolderStorage } from '../../stream/archive/ArchiveStorage.js';
import { ARCHIVE_PREFIX } from '../../stream/archive/exportFormat.js';
import { dataDirHolder } from '../../stream/local/dataDirLock.js';
import { archiveDir, DEFAULT_DATA_DIR, storeDir } from '../../stream/local/openEventStore.js';
import { CliError } from '../exitCodes.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { rebuildThrough } from '../localAdmin.js';
import { decimal, wholeNumber } from '../options.js';
import { counted } from '../output/plural.js';
import { fileProgress } from '../progress.js';
import { serverToken } from '../serveLocal.js';
import { write } from '../write.js';

interface RebuildFlags {
  readonly projection: string;
  readonly verify?: boolean;
  readonly switch: boolean;
  readonly segments: number;
  readonly flushMb: number;
  readonly pageSize?: number;
  readonly source: 'archive' | 'scan';
  readonly dataDir: string;
  readonly json?: boolean;
  readonly progress: boolean;
}

function readModelName(value: string): string {
  if (!READ_MODELS.some((p) => p.name === value))
    throw new InvalidArgumentError(
      `unknown read model "${value}"; there are ${READ_MODELS.map((p) => p.name).join(', ')}`,
    );
  return value;
}

export function registerRebuild(program: Command): void {
  program
    .command('rebuild')
    .description('build a new generation of a read model from the store, then switch to it')
    .requiredOption('--projection <name>', 'the read model to rebuild', readModelName)
    .option('--verify', 'compare the new generation with the live one and report differences')
    .option('--no-switch', 'build and catch up, but keep the current generation active')
    .option('--segments <n>', 'parallel scan segments', wholeNumber(1, 64), 4)
    .option(
      '--flush-mb <mb>',
      'memory the replay folds documents in before it writes them (MB of heap)',
      flushBudget,
      DEFAULT_FLUSH_MB,
    )
    .option(
      '--page-size <commits>',
      "stored commits per scan page (default: DynamoDB's 1 MB pages)",
      wholeNumber(1, 1_000_000),
    )
    .addOption(
      new Option('--source <source>', 'read the store through the archive, or scan the table')
        .choices(['archive', 'scan'])
        .default('archive'),
    )
    .option('--data-dir <dir>', 'the pipeline state to work on', DEFAULT_DATA_DIR)
    .option('--json', 'print the summary as JSON')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .addHelpText(
      'after',
      `
No downtime: the pipeline runs throughout and the live generation keeps serving and updating.
The store is replayed into a new table (a parallel scan, through the positions of the consumer
that will feed it), that consumer then catches up from the stream, and the active generation
switches in one write. The old generation stays, still fed, until "projections drop". An
interrupted rebuild (Ctrl-C, or a process killed outright) continues where it stopped when run
again, and ends equal to a rebuild that was never interrupted.

The replay folds pages in memory and writes them in flushes: each document the pages since
the last flush changed is written once, then the positions of the consumer that takes over.
It flushes when the folded documents take more than --flush-mb of memory (an estimate: their
JSON and what each costs beyond it), every 5 seconds at the latest, and at the end. Its
checkpoint only ever covers flushed pages, so a rebuild killed between flushes or in the
middle of one goes on from its last checkpoint.

--verify compares every document of the two generations once the new one has caught up.
A rebuild of the version that built the active generation compares them even without it:
the same logic must give the same documents, so any difference is a fault (a lost or corrupt
document), not a change; the rebuild then keeps the active generation, names the differences
and exits 1, and keeps the new generation (fed, inactive) for "projections activate" or
"projections drop". A rebuild of a new version compares only with --verify, and switches.

Examples:
  matchstream rebuild --projection standings --verify
  matchstream rebuild --projection matches --json
  matchstream rebuild --projection matches --flush-mb 256`,
    )
    .action(async (flags: RebuildFlags) => {
      const projection = READ_MODELS.find((p) => p.name === flags.projection);
      if (!projection) throw new CliError(`unknown read model ${flags.projection}`);
      requireDataFolder(flags.dataDir);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      const progress = fileProgress(
        `rebuilding ${projection.name}`,
        flags.progress && !flags.json,
        'events',
      );
      // A server holding the data folder does the rebuild itself, and keeps serving.
      const server = dataDirHolder(storeDir(flags.dataDir))?.api;
      const pipeline = server ? undefined : await startPipeline({ dataDir: flags.dataDir });
      try {
        const onProgress = (p: { events: number; scanned: number; total: number }) =>
          progress.update(p.scanned, p.total, p.events);
        let summary: RebuildSummary;
        if (server) {
          summary = await rebuildThrough(
            server,
            serverToken(flags.dataDir),
            {
              projection: projection.name,
              segments: flags.segments,
              flushMb: flags.flushMb,
              ...(flags.pageSize ? { pageSize: flags.pageSize } : {}),
              source: flags.source,
              verify: flags.verify ?? false,
              switch: flags.switch,
            },
            onProgress,
            controller.signal,
          ).catch((error: unknown) => {
            if (controller.signal.aborted)
              throw new CliError('rebuild interrupted; run it again to continue');
            throw error;
          });
        } else if (pipeline) {
          await pipeline.runtime.settle();
          summary = await rebuildReadModel(pipeline, projection, {
            segments: flags.segments,
            flushMb: flags.flushMb,
            ...(flags.pageSize ? { pageSize: flags.pageSize } : {}),
            ...(flags.verify ? { verify: true } : {}),
            ...(flags.switch ? {} : { noSwitch: true }),
            ...(flags.source === 'archive'
              ? {
                  archive: {
                    storage: new FolderStorage(archiveDir(flags.dataDir)),
                    prefix: ARCHIVE_PREFIX,
                  },
                }
              : {}),
            signal: controller.signal,
            onProgress,
          });
        } else throw new CliError('no pipeline to rebuild in');
        progress.stop();
        if (!flags.json && server) await write(`rebuilt by the server at ${server}\n`);
        if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
        else if (!summary.completed)
          await write(
            `rebuild of ${summary.projection} generation ${summary.generation} interrupted after ${summary.events} events; run it again to continue\n`,
          );
        else
          await write(
            [
              `${summary.projection}: generation ${summary.generation} (${summary.table}) built from ${summary.events.toLocaleString('en-US')} events (${summary.scanned.toLocaleString('en-US')} stored commits read in ${summary.replay_seconds} s, ${summary.scanned_per_second.toLocaleString('en-US')}/s), ${summary.caught_up} applied from the stream to catch up; ${summary.seconds} s in all`,
              summary.unreadable === 0
                ? ''
                : `${counted(summary.unreadable, 'stored event')} could not be read or ${summary.unreadable === 1 ? 'follows' : 'follow'} one that cannot in ${summary.unreadable === 1 ? 'its' : 'their'} stream; ${summary.unreadable === 1 ? 'it is' : 'they are'} dead-lettered under rebuild:${summary.projection} (see "matchstream inspect --dead-letters --consumer rebuild:${summary.projection}")`,
              summary.differences === null
                ? ''
                : summary.differences === 0
                  ? 'verified: identical to the live generation'
                  : `verified: ${counted(summary.differences, 'document differs', 'documents differ')} from the live generation, e.g. ${samples(summary, 3)}`,
              summary.switched
                ? `active generation: ${summary.generation} (was ${summary.previous_generation}; drop it with "matchstream projections drop ${summary.projection} --generation ${summary.previous_generation}")`
                : `active generation still ${summary.previous_generation}; switch with "matchstream projections activate ${summary.projection} --generation ${summary.generation}"`,
              '',
            ]
              .filter((l, i, a) => l !== '' || i === a.length - 1)
              .join('\n'),
          );
        if (!summary.completed) throw new CliError('rebuild interrupted; run it again to continue');
        if (summary.fault) throw new CliError(faultMessage(summary));
      } finally {
        progress.stop();
        process.removeListener('SIGINT', interrupt);
        await pipeline?.stop();
      }
    });
}

/** `--flush-mb`: a number of MB above 0 (a fraction for small tests), at most 65,536. */
function flushBudget(value: string): number {
  const mb = decimal(value);
  if (!(mb > 0 && mb <= 65_536))
    throw new InvalidArgumentError('expected a number of MB above 0, at most 65536');
  return mb;
}

/** The first differences, as `kind pk/sk`. */
function samples(summary: RebuildSummary, count: number): string {
  return summary.difference_samples
    .slice(0, count)
    .map((d) => `${d.kind} ${d.pk}/${d.sk.replaceAll('\u0000', '/')}`)
    .join(', ');
}

/** Why a rebuild of the live generation's own version did not switch, in one line. */
function faultMessage(s: RebuildSummary): string {
  return `${s.projection} generation ${s.generation} differs from the active generation ${s.previous_generation} in ${counted(s.differences ?? 0, 'document')} (${samples(s, 5)}${(s.differences ?? 0) > 5 ? ', ...' : ''}) although version ${s.projection_version} of the read model built both: a fault, not a change of logic, so generation ${s.previous_generation} stays active; generation ${s.generation} is kept for a look ("matchstream projections activate ${s.projection} --generation ${s.generation}" switches to it, "matchstream projections drop ${s.projection} --generation ${s.generation}" removes it)`;
}
