import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
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

/** Whether moto_server is on the PATH (`INSTALL_HINT` says how to get it). */
export function motoFound(): boolean {
  return spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
}

/** Starts moto_server on 127.0.0.1 and a free port, and waits until it answers. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok || response.status < 500) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s: ${stderr}`);
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

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
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
