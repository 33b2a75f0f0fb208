import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  CreateEventBusCommand,
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** A moto_server started for a test file or a chaos scenario. */
export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export const INSTALL_HINT =
  'install Python moto 5 with its server extra (pip install "moto[server]")';

/**
 * Whether moto_server can run here. Tests that compare against it skip with a message where
 * it is absent, except in CI (`CI=true`), where its absence fails the run.
 */
export function motoAvailable(): boolean {
  const found = motoFound();
  if (!found && process.env.CI === 'true') {
    throw new Error(`moto_server is required in CI and was not found on PATH: ${INSTALL_HINT}`);
  }
  if (!found)
    console.warn(`moto_server not found: tests against moto are skipped (${INSTALL_HINT})`);
  return found;
}

let motoOnPath: boolean | undefined;

/**
 * Whether an executable moto_server is on the PATH (`INSTALL_HINT` says how to get it), looked
 * up once a process. Found, not run: running `moto_server --help` to ask took about a second
 * of CPU (Python importing moto), in each of the two dozen test files that ask. An install
 * that is found but cannot run fails in `startMoto`, with moto_server's own words.
 */
export function motoFound(): boolean {
  motoOnPath ??= executableOnPath('moto_server');
  return motoOnPath;
}

/** Whether a directory of `path` (as PATH: directories apart by `:`) holds an executable `name`. */
export function executableOnPath(name: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    if (dir === '') return false;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

export interface MotoOptions {
  /**
   * Python's thread switch interval in moto_server, in seconds (`sys.setswitchinterval`; 5 ms
   * by default). A tiny one makes races between its request threads far likelier, for the test
   * that DynamoDB requests are handled one at a time.
   */
  readonly switchIntervalSeconds?: number;
}

/**
 * moto_server's `sitecustomize`, on its `PYTHONPATH`. Each part does nothing where the module
 * it patches is absent.
 *
 * - It handles DynamoDB requests one at a time. moto's server runs each request in a thread
 *   of its own, and its DynamoDB checks a write's condition and then writes, unlocked: two
 *   racing `PutItem`s with `attribute_not_exists` can both be accepted (7 rounds in 100 of 12
 *   racing puts with a 1 µs switch interval, none with the lock). DynamoDB's writes to an item
 *   are atomic, which is what the event store's optimistic concurrency rests on (DynamoDB
 *   Developer Guide, "Best practices for handling concurrent updates in DynamoDB":
 *   "Individual write operations such as UpdateItem are atomic and always operate on the most
 *   recent version of the item, regardless of concurrency").
 * - It parses each JSONPath of an EventBridge target's input transformer once, not once per
 *   event delivered: moto builds a JSONPath parser (ply's LALR tables) for every path of every
 *   event it hands to a target, 30 to 65 ms an event on a 2-core machine, two thirds of its
 *   time under a stream of PutEvents. What it parses is a function of the path alone, and the
 *   parsed path is only read; EventBridge's behaviour is otherwise moto's own.
 * - It answers DynamoDB requests whose credentials it refuses (when told to check them:
 *   `POST /moto-api/reset-auth`) as DynamoDB does, in JSON with status 400 and the error's
 *   `__type` (`UnrecognizedClientException` for an access key it does not know), where moto
 *   answers in the XML of its query APIs, which no DynamoDB client reads.
 */
function siteCustomize(options: MotoOptions): string {
  const lines = [
    'import functools',
    'import threading',
    'try:',
    '    from moto.dynamodb.responses import DynamoHandler as _Dynamo',
    '    _dynamo_lock = threading.Lock()',
    '    _dynamo_call = _Dynamo.call_action',
    '    def _dynamo_one_at_a_time(self):',
    '        with _dynamo_lock:',
    '            status, headers, body = _dynamo_call(self)',
    '        if status == 403 and isinstance(body, str) and body.lstrip().startswith("<"):',
    '            import json, re',
    '            code = (re.search(r"<Code>([^<]*)</Code>", body) or [None, "InvalidClientTokenId"])[1]',
    '            code = {"InvalidClientTokenId": "UnrecognizedClientException"}.get(code, code)',
    '            message = (re.search(r"<Message>([^<]*)</Message>", body) or [None, ""])[1]',
    '            headers = {**dict(headers), "status": 400, "x-amzn-ErrorType": code,',
    '                       "content-type": "application/x-amz-json-1.0"}',
    '            body = json.dumps({"__type": "com.amazon.coral.service#" + code, "message": message})',
    '            return 400, headers, body',
    '        return status, headers, body',
    '    _Dynamo.call_action = _dynamo_one_at_a_time',
    'except ImportError:',
    '    pass',
    'try:',
    '    import jsonpath_ng.ext as _ext',
    '    _ext.parse = functools.lru_cache(maxsize=1024)(_ext.parse)',
    'except ImportError:',
    '    pass',
  ];
  if (options.switchIntervalSeconds !== undefined) {
    lines.push('import sys', `sys.setswitchinterval(${options.switchIntervalSeconds})`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Starts moto_server on 127.0.0.1 and a port it binds itself (`-p 0`), read from the line its
 * server prints (` * Running on http://127.0.0.1:PORT`), and waits until it answers. A port
 * found free first and handed to it could be taken meanwhile by another server of the same
 * run (a test's dynalite, listening on port 0): moto then failed to bind, and the probe took
 * the other server's answer for moto's.
 */
export async function startMoto(options: MotoOptions = {}): Promise<Moto> {
  const site = mkdtempSync(join(tmpdir(), 'matchstream-moto-'));
  writeFileSync(join(site, 'sitecustomize.py'), siteCustomize(options));
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      PYTHONPATH: [site, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    },
  });
  const removeSite = () => rmSync(site, { recursive: true, force: true });
  child.once('exit', removeSite);
  let stderr = '';
  let port: string | undefined;
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
    port ??= /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
  });
  const deadline = Date.now() + 30_000;
  let endpoint = '';
  for (;;) {
    if (child.exitCode !== null) {
      removeSite();
      throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    }
    if (port !== undefined) {
      endpoint = `http://127.0.0.1:${port}`;
      try {
        // moto's own state, as JSON: no other server answers this.
        const response = await fetch(`${endpoint}/moto-api/data.json`);
        if (response.ok && typeof (await response.json()) === 'object') break;
      } catch {
        // Not answering yet.
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `moto_server did not answer${port ? ` on port ${port}` : ''} within 30 s: ${stderr}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A bus on moto's EventBridge whose one rule sends everything from `source` to a new SQS
 * queue; returns the queue's URL.
 */
export async function motoBusToQueue(
  events: EventBridgeClient,
  sqs: SQSClient,
  bus: string,
  source: string,
): Promise<string> {
  const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: bus }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(new CreateEventBusCommand({ Name: bus }));
  await events.send(
    new PutRuleCommand({
      Name: `${bus}-all`,
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: [source] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: `${bus}-all`,
      EventBusName: bus,
      Targets: [
        {
          Id: 'queue',
          Arn: Attributes?.QueueArn ?? '',
          // The whole event, as without a transformer. moto builds a fresh JSONPath parser for
          // every input path of every event (~65 ms each; its default transformer has eight),
          // so one path makes delivery several times faster.
          InputTransformer: {
            InputPathsMap: { detail: '$.detail' },
            InputTemplate: '<aws.events.event.json>',
          },
        },
      ],
    }),
  );
  return QueueUrl;
}

/**
 * The events (message bodies, parsed) a queue holds, deleting them as they come: until at
 * least `count` have come or `timeoutMs` has passed, then until it is empty twice in a row.
 * For a queue that fills to thousands, drain it while it fills (`QueueDrain`).
 */
export async function drainQueue<T = unknown>(
  sqs: SQSClient,
  queueUrl: string,
  options: { count?: number; timeoutMs?: number } = {},
): Promise<T[]> {
  const bodies: T[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    for (const m of Messages) bodies.push(JSON.parse(m.Body ?? '{}') as T);
    if (Messages.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((m, i) => ({ Id: `${i}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    else if (bodies.length >= (options.count ?? 0) || Date.now() > deadline) empty++;
    else await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return bodies;
}

/**
 * A queue drained while events keep arriving, so that it stays short: moto's SQS counts a
 * queue's messages (recomputing its attributes) for every message sent to it and three times
 * for every message received, so a queue left to fill makes each delivery slower (at 2,000
 * messages a receive of 10 took over a second, and a season's 10,000 never drained; at 200 the
 * drain kept up with 17 messages a second). Receives 10 at a time, again at once while they come
 * full, after a pause when they do not (so that the next one is fuller), and deletes what it
 * received (again, for entries whose delete failed) before it receives more. Whoever waits for
 * the queue to be empty (`emptied`) cuts the pause short.
 */
export class QueueDrain<T = unknown> {
  /** The bodies received so far, parsed, in the order they came. */
  readonly bodies: T[] = [];
  private receives = 0;
  private stopping = false;
  /** Ends the pause between receives early. */
  private wake: (() => void) | undefined;
  private failure: unknown;
  private readonly waiters: { after: number; resolve: () => void; reject: (e: unknown) => void }[] =
    [];
  private readonly loop: Promise<void>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    /** The pause after a receive that was not full, and after one that found nothing (ms). */
    private readonly pauseMs: { readonly partial: number; readonly empty: number } = {
      partial: 250,
      empty: 1_000,
    },
  ) {
    this.loop = this.run().catch((error: unknown) => {
      this.failure = error;
      for (const w of this.waiters.splice(0)) w.reject(error);
    });
  }

  /**
   * Resolves once a receive begun after this call found the queue empty: moto puts an event's
   * message on the queue before its PutEvents answers, and its queues are consistent (a receive
   * that finds nothing means nothing is there), so everything published before the call is then
   * in `bodies`.
   */
  emptied(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ after: this.receives, resolve, reject });
      this.wake?.();
    });
  }

  /** Every body received so far, once the queue was found empty (see `emptied`). */
  async caughtUp(): Promise<readonly T[]> {
    await this.emptied();
    return [...this.bodies];
  }

  /** Catches up, then stops receiving; the bodies received. */
  async stop(): Promise<readonly T[]> {
    const bodies = await this.caughtUp();
    await this.halt();
    return bodies;
  }

  /** Stops receiving, caught up or not (after the receive in flight). */
  async halt(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const receive = ++this.receives;
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10 }),
      );
      for (const m of Messages) this.bodies.push(JSON.parse(m.Body ?? '{}') as T);
      if (Messages.length > 0) await this.delete(Messages);
      else
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          const waiter = this.waiters[i];
          if (waiter && waiter.after < receive) {
            this.waiters.splice(i, 1);
            waiter.resolve();
          }
        }
      if (Messages.length < 10 && this.waiters.length === 0 && !this.stopping)
        await this.pause(Messages.length === 0 ? this.pauseMs.empty : this.pauseMs.partial);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Deletes the messages received, retrying those whose delete failed (a few times). */
  private async delete(messages: readonly Message[]): Promise<void> {
    let left = messages.map((m, i) => ({ Id: `${i}`, ReceiptHandle: m.ReceiptHandle }));
    for (let attempt = 1; left.length > 0; attempt++) {
      const { Failed = [] } = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: left }),
      );
      const failed = new Set(Failed.map((f) => f.Id));
      left = left.filter((e) => failed.has(e.Id));
      if (left.length > 0 && attempt >= 5)
        throw new Error(
          `could not delete ${left.length} messages from ${this.queueUrl}: ${Failed[0]?.Code}`,
        );
    }
  }
}
