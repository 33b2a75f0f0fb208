import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListMapRunsCommand,
  RedriveExecutionCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { RebuildSummary } from '../rebuildSummary.js';
import type { RebuildRequest, RebuildRun } from './rebuildControl.js';

/** How a run on AWS is going, after each look at it. */
export interface AwsRebuildProgress {
  readonly executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  readonly status: string;
  /** The state the run last entered (`Prepare`, `ApplyFiles`, `CatchUp`, ...). */
  readonly state: string | null;
  /**
   * The items of the run's latest map run: all, done, failed (null before the first map). The
   * data files of an export while the step is `ApplyFiles`, the segments while it is
   * `CompareSegments`.
   */
  readonly files: { readonly total: number; readonly done: number; readonly failed: number } | null;
  /**
   * While the run applies an export's deferred streams, in parts: how many it has applied of
   * how many (null otherwise, or before the first part).
   */
  readonly streams: { readonly total: number; readonly done: number } | null;
}

/** A run that ended without a summary: failed, timed out or stopped. */
export class AwsRebuildFailed extends Error {
  constructor(
    readonly executionArn: string,
    readonly status: string,
    readonly error: string | null,
    readonly detail: string | null,
  ) {
    super(
      `the rebuild run ${executionArn} ended ${status}${error ? `: ${error}` : ''}${detail ? `: ${detail}` : ''}`,
    );
    this.name = 'AwsRebuildFailed';
  }
}

/** A run of the same read model is under way: a second would build its generation alongside. */
export class AwsRebuildRunning extends Error {
  constructor(readonly executionArn: string) {
    super(
      `a rebuild run of this read model is under way (${executionArn}): wait for it (aws stepfunctions describe-execution --execution-arn ${executionArn}), or stop it first`,
    );
    this.name = 'AwsRebuildRunning';
  }
}

export interface AwsRebuildOptions {
  readonly sfn: SFNClient;
  /** The stack output `RebuildStateMachine`. */
  readonly stateMachineArn: string;
  /** A new run of this request; or `redrive`. */
  readonly request?: RebuildRequest;
  /** Goes on with a failed run from where it failed (RedriveExecution). */
  readonly redrive?: string;
  /** @default 5000 */
  readonly pollMs?: number;
  readonly onStarted?: (executionArn: string) => void;
  readonly onProgress?: (progress: AwsRebuildProgress) => void;
  /** Stops following the run (the run goes on in AWS). */
  readonly signal?: AbortSignal;
  /** @default Date.now */
  readonly now?: () => number;
}

/** A run's name: the read model and the time, unique enough for one machine's runs. */
export function runName(projection: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const salt = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `${projection}-${stamp}-${salt}`;
}

/**
 * Starts a rebuild on AWS (an execution of the stack's rebuild state machine), or redrives a
 * failed one, and follows it to its end: the summary it outputs (the keys of the local
 * rebuild's), or `AwsRebuildFailed` with the run's error and cause. Interrupted, it stops
 * following and returns null; the run goes on.
 */
export async function rebuildOnAws(options: AwsRebuildOptions): Promise<RebuildSummary | null> {
  const { sfn } = options;
  const now = options.now ?? Date.now;
  let executionArn: string;
  if (options.redrive) {
    await sfn.send(new RedriveExecutionCommand({ executionArn: options.redrive }));
    executionArn = options.redrive;
  } else {
    const request = options.request;
    if (!request) throw new Error('rebuildOnAws needs a request or a run to redrive');
    // One run per read model at a time: two would build the same generation side by side.
    const running = await runningFor(sfn, options.stateMachineArn, request.projection);
    if (running) throw new AwsRebuildRunning(running);
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: options.stateMachineArn,
        name: runName(request.projection, now()),
        input: JSON.stringify(request),
      }),
    );
    if (!started.executionArn) throw new Error('StartExecution returned no execution ARN');
    executionArn = started.executionArn;
  }
  options.onStarted?.(executionArn);
  const pollMs = options.pollMs ?? 5000;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = described.status ?? 'RUNNING';
    if (status === 'SUCCEEDED') return summaryOf(described);
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE')
      throw new AwsRebuildFailed(
        executionArn,
        status,
        described.error ?? null,
        described.cause ?? null,
      );
    if (options.onProgress)
      options.onProgress({
        executionArn,
        status,
        ...(await historyOf(sfn, executionArn)),
        files: await mapProgress(sfn, executionArn),
      });
    if (options.signal?.aborted) return null;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      options.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    if (options.signal?.aborted) return null;
  }
}

/** Whether a run's name is that of a run of this read model (`runName`). */
export function isRunOf(name: string, projection: string): boolean {
  return new RegExp(`^${projection}-\\d{8}T\\d{6}-\\w{4}$`).test(name);
}

/**
 * The state machine and the name of a run, from its ARN
 * (`arn:<partition>:states:<region>:<account>:execution:<state machine>:<run>`); undefined
 * for what is not the ARN of a run.
 */
export function runOfArn(
  executionArn: string,
): { readonly stateMachineArn: string; readonly name: string } | undefined {
  const parts = executionArn.split(':');
  if (parts.length !== 8 || parts[0] !== 'arn' || parts[2] !== 'states' || parts[5] !== 'execution')
    return undefined;
  const [, partition, , region, account, , machine, name] = parts;
  return {
    stateMachineArn: `arn:${partition}:states:${region}:${account}:stateMachine:${machine}`,
    name: name ?? '',
  };
}

/** A running execution of the machine for this read model (runs are named `<read model>-<time>-<salt>`). */
async function runningFor(
  sfn: SFNClient,
  stateMachineArn: string,
  projection: string,
): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', nextToken }),
    );
    const found = page.executions?.find((e) => isRunOf(e.name ?? '', projection));
    if (found?.executionArn) return found.executionArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

function summaryOf(described: DescribeExecutionCommandOutput): RebuildSummary {
  const output = described.output;
  if (!output) throw new Error(`the run ${described.executionArn} succeeded without output`);
  const summary = JSON.parse(output) as RebuildSummary;
  if (typeof summary?.projection !== 'string' || typeof summary.generation !== 'number')
    throw new Error(
      `the run ${described.executionArn} output is not a rebuild summary: ${output.slice(0, 200)}`,
    );
  return summary;
}

/** What the run's newest history events say (`historyProgress`); nothing when they cannot be read. */
async function historyOf(
  sfn: SFNClient,
  executionArn: string,
): Promise<Pick<AwsRebuildProgress, 'state' | 'streams'>> {
  try {
    const { events } = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20 }),
    );
    return historyProgress(events ?? []);
  } catch {
    // Progress is a courtesy: a history that cannot be read leaves the state unknown.
    return { state: null, streams: null };
  }
}

/**
 * From a run's newest history events, newest first: the state it last entered, and, while it
 * applies deferred streams in parts, how far the last part got (the control step's output,
 * `deferring`, in the newest function result of the run).
 */
export function historyProgress(
  events: readonly HistoryEvent[],
): Pick<AwsRebuildProgress, 'state' | 'streams'> {
  const state = events.find((e) => e.stateEnteredEventDetails?.name)?.stateEnteredEventDetails
    ?.name;
  let streams: AwsRebuildProgress['streams'] = null;
  if (state === 'ApplyDeferredStreams' || state === 'DeferredDone?') {
    const output = events
      .map(
        (e) => e.lambdaFunctionSucceededEventDetails?.output ?? e.taskSucceededEventDetails?.output,
      )
      .find((o) => o !== undefined);
    try {
      const deferring = (JSON.parse(output ?? 'null') as RebuildRun | null)?.deferring;
      if (deferring && !deferring.done)
        streams = { total: deferring.streams, done: deferring.next };
    } catch {
      // An output cut short by the history's size limit: no count to show.
    }
  }
  return { state: state ?? null, streams };
}

/** The item counts of the run's latest map run (null before the map, or when unknown). */
async function mapProgress(
  sfn: SFNClient,
  executionArn: string,
): Promise<AwsRebuildProgress['files']> {
  try {
    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
    const latest = mapRuns
      ?.slice()
      .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))[0];
    if (!latest?.mapRunArn) return null;
    const run = await sfn.send(new DescribeMapRunCommand({ mapRunArn: latest.mapRunArn }));
    const counts = run.itemCounts;
    if (!counts) return null;
    return {
      total: counts.total ?? 0,
      done: counts.succeeded ?? 0,
      failed: (counts.failed ?? 0) + (counts.timedOut ?? 0) + (counts.aborted ?? 0),
    };
  } catch {
    return null;
  }
}
