import { SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import {
  AwsRebuildFailed,
  AwsRebuildRunning,
  isRunOf,
  rebuildOnAws,
  runOfArn,
} from '../../pipeline/aws/rebuildOnAws.js';
import { READ_MODELS_CONSUMER, startPipeline } from '../../pipeline/embeddedPipeline.js';
import { READ_MODELS } from '../../pipeline/readModels.js';
import {
  type RebuildProgress,
  type RebuildSummary,
  rebuildReadModel,
} from '../../pipeline/rebuild.js';
import { FolderStorage } from '../../stream/archive/ArchiveStorage.js';
import { ARCHIVE_PREFIX } from '../../stream/archive/exportFormat.js';
import { clientConfig } from '../../stream/aws/clientConfig.js';
import { dataDirHolder } from '../../stream/local/dataDirLock.js';
import { archiveDir, storeDir } from '../../stream/local/openEventStore.js';
import { catchUp, EVENTS_APPLIED } from '../catchUp.js';
import { CliError, EXIT } from '../exitCodes.js';
import { requireDataFolder } from '../folder/LocalFolderReader.js';
import { rebuildThrough } from '../localAdmin.js';
import { counted } from '../output/plural.js';
import { rebuildProgress } from '../output/rebuildProgress.js';
import { Phases } from '../phases.js';
import { fileProgress, type Progress } from '../progress.js';
import { serverToken } from '../serverToken.js';
import { write } from '../write.js';

export interface RebuildFlags {
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
  readonly aws?: boolean;
  readonly stateMachine?: string;
  readonly redrive?: string;
  readonly warmWrites?: number;
  readonly warmReads?: number;
}

/** The flags as given: `--projection` may be left out of a redrive, whose run names it. */
export type RebuildCommandFlags = Omit<RebuildFlags, 'projection'> & {
  readonly projection?: string;
};

/** `matchstream rebuild`: a new generation of a read model, built and switched to. */
export async function runRebuild(given: RebuildCommandFlags, command: Command): Promise<void> {
  const flags: RebuildFlags = { ...given, projection: given.projection ?? projectionOfRun(given) };
  const projection = READ_MODELS.find((p) => p.name === flags.projection);
  if (!projection) throw new CliError(`unknown read model ${flags.projection}`);
  if (flags.aws) {
    await rebuildAws(flags, command);
    return;
  }
  for (const [flag, name] of Object.entries(AWS_ONLY))
    if (flags[flag as keyof typeof AWS_ONLY] !== undefined)
      throw new CliError(`${name} is for a rebuild on AWS: add --aws`, EXIT.USAGE);
  requireDataFolder(flags.dataDir);
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  const progress = rebuildBar(projection.name, flags.progress && !flags.json);
  // A server holding the data folder does the rebuild itself, and keeps serving.
  const server = dataDirHolder(storeDir(flags.dataDir))?.api;
  const pipeline = server
    ? undefined
    : await startPipeline({ dataDir: flags.dataDir, catchUpHeld: true });
  try {
    const onProgress = (p: RebuildProgress) => progress.update(p);
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
          ...(flags.verify !== undefined ? { verify: flags.verify } : {}),
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
      // The catch-up of what the folder holds and the read models have not applied yet (a
      // folder ingested into) may take minutes: shown on a terminal as `saga start` shows it,
      // and Ctrl-C stops it too, before any generation.
      const phases = new Phases({ quiet: !flags.progress || flags.json === true, plain: false });
      const shown = catchUp(phases, 'catch-up', EVENTS_APPLIED, pipeline.runtime, [
        READ_MODELS_CONSUMER,
      ]);
      try {
        await Promise.race([
          Promise.all([pipeline.caughtUp, shown]),
          new Promise<void>((resolve) => {
            if (controller.signal.aborted) resolve();
            else controller.signal.addEventListener('abort', () => resolve(), { once: true });
          }),
        ]);
      } finally {
        phases.close();
      }
      if (controller.signal.aborted)
        throw new CliError('rebuild interrupted; run it again to continue');
      summary = await rebuildReadModel(pipeline, projection, {
        segments: flags.segments,
        flushMb: flags.flushMb,
        ...(flags.pageSize ? { pageSize: flags.pageSize } : {}),
        ...(flags.verify !== undefined ? { verify: flags.verify } : {}),
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
    await report(summary, flags);
  } finally {
    progress.stop();
    process.removeListener('SIGINT', interrupt);
    await pipeline?.stop();
  }
}

/**
 * A local rebuild's bar: the commits the scan or the archive's files read, with the events
 * applied; while streams are applied from the store after files (an export's deferred ones,
 * the expired seasons'), a bar of those.
 */
function rebuildBar(projection: string, enabled: boolean) {
  const files = fileProgress(`rebuilding ${projection}`, enabled, 'events');
  let streams: { kind: string; bar: Progress } | undefined;
  return {
    update(p: RebuildProgress) {
      if (!p.streams) {
        streams?.bar.stop();
        streams = undefined;
        files.update(p.scanned, p.total, p.events);
        return;
      }
      if (streams?.kind !== p.streams.kind) {
        files.stop();
        streams?.bar.stop();
        const which =
          p.streams.kind === 'expired' ? "expired seasons' streams" : 'deferred streams';
        streams = {
          kind: p.streams.kind,
          bar: fileProgress(`rebuilding ${projection}: ${which}`, enabled, 'streams'),
        };
      }
      streams.bar.update(p.streams.done, p.streams.total, p.streams.done);
    },
    stop() {
      streams?.bar.stop();
      files.stop();
    },
  };
}

/** The summary, as JSON or in words; then the exit: interrupted or a fault fail. */
async function report(summary: RebuildSummary, flags: Pick<RebuildFlags, 'json' | 'aws'>) {
  const aws = flags.aws === true;
  if (flags.json) await write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (!summary.completed)
    await write(
      `rebuild of ${summary.projection} generation ${summary.generation} interrupted after ${counted(summary.events, 'event')}; run it again to continue\n`,
    );
  else
    await write(
      [
        `${summary.projection}: generation ${summary.generation} (${summary.table}) built from ${summary.events.toLocaleString('en-US')} events (${summary.scanned.toLocaleString('en-US')} stored commits read in ${summary.replay_seconds} s, ${summary.scanned_per_second.toLocaleString('en-US')}/s${summary.expired_streams ? `; then the ${counted(summary.expired_streams, 'stream')} of expired seasons, from the archive` : ''}${summary.resumed ? '; going on from an interrupted run' : ''}), ${aws ? 'then fed from the stream by a mapping of its own' : `${summary.caught_up} applied from the stream to catch up`}; ${summary.seconds} s in all`,
        summary.warm_throughput
          ? `its table's warm throughput: ${summary.warm_throughput.reads.toLocaleString('en-US')} reads and ${summary.warm_throughput.writes.toLocaleString('en-US')} writes a second`
          : '',
        summary.unreadable === 0
          ? ''
          : `${counted(summary.unreadable, 'stored event')} could not be read or ${summary.unreadable === 1 ? 'follows' : 'follow'} one that cannot in ${summary.unreadable === 1 ? 'its' : 'their'} stream; ${summary.unreadable === 1 ? 'it is' : 'they are'} dead-lettered under rebuild:${summary.projection} (see "matchstream inspect --dead-letters --consumer rebuild:${summary.projection}")`,
        summary.differences === null
          ? ''
          : summary.differences === 0
            ? 'verified: identical to the live generation'
            : `verified: ${counted(summary.differences, 'document differs', 'documents differ')} from the live generation, e.g. ${samples(summary, 3)}`,
        aws
          ? summary.switched
            ? `active generation: ${summary.generation} (was ${summary.previous_generation}, which stays fed${summary.previous_generation === 1 ? ": the stack's own table" : `; "matchstream projections drop ${summary.projection} --generation ${summary.previous_generation} --aws ..." removes it`})`
            : `active generation still ${summary.previous_generation}; generation ${summary.generation} is kept, fed and inactive ("matchstream projections activate --aws" switches to it)`
          : summary.switched
            ? `active generation: ${summary.generation} (was ${summary.previous_generation}; drop it with "matchstream projections drop ${summary.projection} --generation ${summary.previous_generation}")`
            : `active generation still ${summary.previous_generation}; switch with "matchstream projections activate ${summary.projection} --generation ${summary.generation}"`,
        '',
      ]
        .filter((l, i, a) => l !== '' || i === a.length - 1)
        .join('\n'),
    );
  if (!summary.completed) throw new CliError('rebuild interrupted; run it again to continue');
  if (summary.fault) throw new CliError(faultMessage(summary, aws));
}

/** Flags that only a rebuild on AWS reads: refused without --aws. */
const AWS_ONLY = {
  stateMachine: '--state-machine',
  redrive: '--redrive',
  warmWrites: '--warm-writes',
  warmReads: '--warm-reads',
} as const;

/** Flags that only a local rebuild reads: refused with --aws when given. */
const LOCAL_ONLY = {
  segments: '--segments',
  flushMb: '--flush-mb',
  pageSize: '--page-size',
  source: '--source',
  dataDir: '--data-dir',
} as const;

/** `rebuild --aws`: a run of the deployed rebuild state machine, followed to its end. */
async function rebuildAws(flags: RebuildFlags, command: Command): Promise<void> {
  for (const [key, flag] of Object.entries(LOCAL_ONLY))
    if (command.getOptionValueSource(key) === 'cli')
      throw new CliError(
        `${flag} is for a local rebuild; on AWS the stack's settings apply (the map's concurrency is the context "rebuildConcurrency"): drop it`,
        EXIT.USAGE,
      );
  if (!flags.stateMachine)
    throw new CliError(
      'rebuild --aws needs --state-machine <arn>: the stack output RebuildStateMachine',
      EXIT.USAGE,
    );
  if (flags.redrive && (flags.warmWrites !== undefined || flags.warmReads !== undefined))
    throw new CliError(
      '--warm-writes and --warm-reads apply when a run makes its table; a redriven run goes on with its own: drop them, or start a new run',
      EXIT.USAGE,
    );
  if (flags.redrive) redrivable(flags, flags.redrive, command);
  const warm = {
    ...(flags.warmReads !== undefined ? { reads: flags.warmReads } : {}),
    ...(flags.warmWrites !== undefined ? { writes: flags.warmWrites } : {}),
  };
  const sfn = new SFNClient(clientConfig({}));
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  let run = '';
  let last = '';
  const say = (line: string) => {
    if (flags.progress && line !== last) process.stderr.write(`${line}\n`);
    last = line;
  };
  try {
    const summary = await rebuildOnAws({
      sfn,
      stateMachineArn: flags.stateMachine,
      ...(flags.redrive
        ? { redrive: flags.redrive }
        : {
            request: {
              projection: flags.projection,
              ...(flags.verify !== undefined ? { verify: flags.verify } : {}),
              ...(flags.switch ? {} : { switch: false }),
              ...(Object.keys(warm).length > 0 ? { warm } : {}),
            },
          }),
      signal: controller.signal,
      onStarted: (arn) => {
        run = arn;
        say(`rebuild run ${arn} ${flags.redrive ? 'redriven' : 'started'}`);
      },
      onProgress: (p) => say(rebuildProgress(p)),
    }).catch((error: unknown) => {
      if (error instanceof AwsRebuildRunning) throw new CliError(error.message);
      if (error instanceof AwsRebuildFailed)
        throw new CliError(
          `${error.message}; nothing was switched. Go on from where it failed with "matchstream rebuild --aws --state-machine ${flags.stateMachine} --projection ${flags.projection} --redrive ${error.executionArn}", or start a new run`,
        );
      throw error;
    });
    if (!summary)
      throw new CliError(
        `stopped following the rebuild run ${run}; it goes on in AWS (aws stepfunctions describe-execution --execution-arn ${run})`,
      );
    await report(summary, flags);
  } finally {
    process.removeListener('SIGINT', interrupt);
    sfn.destroy();
  }
}

/**
 * Refuses what a redrive cannot do. A redriven run goes on with the input it was started with
 * and on its own state machine (Step Functions, RedriveExecution: it "uses the same input" and
 * "the same state machine definition and execution ARN"), so the flags of a new run's input
 * would be ignored, and a run of another machine or read model is not the one meant.
 */
function redrivable(flags: RebuildFlags, redrive: string, command: Command): void {
  for (const key of ['verify', 'switch'] as const)
    if (command.getOptionValueSource(key) === 'cli')
      throw new CliError(
        `${key === 'switch' ? '--no-switch' : flags.verify ? '--verify' : '--no-verify'} applies when a run starts; a redriven run goes on with the input it was started with: drop it, or start a new run`,
        EXIT.USAGE,
      );
  const run = runOfArn(redrive);
  if (!run || run.stateMachineArn !== flags.stateMachine)
    throw new CliError(
      `--redrive ${redrive} is not a run of the state machine ${flags.stateMachine}`,
      EXIT.USAGE,
    );
  const of = READ_MODELS.find((p) => isRunOf(run.name, p.name));
  if (of && of.name !== flags.projection)
    throw new CliError(
      `--redrive ${redrive} is a rebuild run of ${of.name}, not of ${flags.projection}: give --projection ${of.name}`,
      EXIT.USAGE,
    );
}

/**
 * The read model of the run `--redrive` names, for a redrive without `--projection`: runs are
 * named `<read model>-<time>-<salt>` (`isRunOf`). Anything else needs `--projection`.
 */
function projectionOfRun(flags: RebuildCommandFlags): string {
  if (flags.redrive && !flags.aws)
    throw new CliError('--redrive is for a rebuild on AWS: add --aws', EXIT.USAGE);
  if (!(flags.aws && flags.redrive))
    throw new CliError(
      `rebuild needs --projection <name>: the read model to rebuild (${READ_MODELS.map((p) => p.name).join(', ')})`,
      EXIT.USAGE,
    );
  const run = runOfArn(flags.redrive);
  const of = run ? READ_MODELS.filter((p) => isRunOf(run.name, p.name)) : [];
  if (of.length !== 1 || !of[0])
    throw new CliError(
      `--redrive ${flags.redrive} names no read model (a rebuild run is named <read model>-<time>-<salt>): give --projection with it`,
      EXIT.USAGE,
    );
  return of[0].name;
}

/** The first differences, as `kind pk/sk`. */
function samples(summary: RebuildSummary, count: number): string {
  return summary.difference_samples
    .slice(0, count)
    .map((d) => `${d.kind} ${d.pk}/${d.sk.replaceAll('\u0000', '/')}`)
    .join(', ');
}

/** Why a rebuild of the live generation's own version did not switch, in one line. */
function faultMessage(s: RebuildSummary, aws = false): string {
  const kept = aws
    ? `generation ${s.generation} (table ${s.table}) is kept, fed and inactive, for a look ("matchstream projections activate|drop ${s.projection} --generation ${s.generation} --aws ..." switches to it or removes it)`
    : `generation ${s.generation} is kept for a look ("matchstream projections activate ${s.projection} --generation ${s.generation}" switches to it, "matchstream projections drop ${s.projection} --generation ${s.generation}" removes it)`;
  return `${s.projection} generation ${s.generation} differs from the active generation ${s.previous_generation} in ${counted(s.differences ?? 0, 'document')} (${samples(s, 5)}${(s.differences ?? 0) > 5 ? ', ...' : ''}) although version ${s.projection_version} of the read model built both: a fault, not a change of logic, so generation ${s.previous_generation} stays active; ${kept}`;
}
