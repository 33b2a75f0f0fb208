/**
 * What a request to the embedded dynalite costs the thread that sends it, by client: the
 * project's client for its own servers (`ownServer`), which hands the server thread each
 * request on items directly, as the JSON the server reads (`sendDirectly`); the same client
 * through the SDK's serializer, middleware and deserializer, handing the thread the SDK's
 * HTTP request as a message (what it did before); the same over HTTP (unsigned, without
 * `NOT_FOR_OWN_SERVERS`), that with the SDK's full stack, and a signed one (what a command's
 * store sent before it ran its dynalite on a thread of its own). The same server (on a
 * thread, as every embedded one), the same conditional appends of one-event items, 16 at a
 * time, rounds alternating; each way's time is that of the sending thread (its event loop's
 * active time), which is what the server's thread does not share.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  type AttributeValue,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  clientConfig,
  forOwnServers,
  NOT_FOR_OWN_SERVERS,
  TransportHandler,
} from '../stream/aws/clientConfig.js';
import { sendsDirectly } from '../stream/aws/directDynamo.js';
import { dynamoClient } from '../stream/aws/dynamoClient.js';
import { ensureEventsTable } from '../stream/eventStore/eventsTable.js';
import { startEmbeddedDynamo } from '../stream/local/embeddedDynamo.js';
import { ownServer } from '../stream/local/serverThread.js';
import { median } from './rpi.js';

export const CLIENT_SCENARIOS = ['client-overhead'] as const;

/** How much work a run does (the defaults are the measured figures; tests use tiny ones). */
export interface ClientSize {
  /** Requests per round and way. @default 4,000 */
  readonly requests?: number;
  /** Timed rounds of each way (after one warm-up round). @default 7 */
  readonly rounds?: number;
}

const TABLE = 'bench-clients';
const CONCURRENCY = 16;

/** One round: `requests` conditional appends, 16 at a time; the sender's busy µs and rate. */
async function round(client: DynamoDBClient, requests: number, offset: number) {
  let next = 0;
  const before = performance.eventLoopUtilization();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) {
        const i = offset + next++;
        await client.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: {
              aggregate_id: { S: `match-${i}` },
              sequence: { N: '1' },
              data: { B: new Uint8Array(300).fill(i % 251) },
            },
            ConditionExpression: 'attribute_not_exists(aggregate_id)',
          }),
        );
      }
    }),
  );
  const ms = performance.now() - started;
  const busy = performance.eventLoopUtilization(before);
  return { us_per_request: (busy.active * 1000) / requests, per_second: (requests / ms) * 1000 };
}

export async function measure(name: string, size: ClientSize = {}) {
  const requests = size.requests ?? 4_000;
  const rounds = size.rounds ?? 7;
  const dynamo = await startEmbeddedDynamo({ thread: true });
  const endpoint = dynamo.endpoint;
  const own = ownServer(endpoint);
  const ways = {
    direct: dynamoClient(own),
    messages: forOwnServers(new DynamoDBClient(clientConfig(own)), own),
    lean: dynamoClient({ endpoint, unsigned: true }),
    full_stack: new DynamoDBClient(clientConfig({ endpoint, unsigned: true })),
    signed: dynamoClient({ endpoint }),
  };
  try {
    // The lean and full-stack ways differ by the middleware taken out, and by nothing else.
    const has = (client: DynamoDBClient, m: string) =>
      client.middlewareStack.identify().some((entry) => entry.startsWith(`${m} `));
    for (const m of NOT_FOR_OWN_SERVERS) {
      if (has(ways.lean, m)) throw new Error(`the lean client still has ${m}`);
      if (!has(ways.full_stack, m)) throw new Error(`the full-stack client has no ${m}`);
    }
    // The events table's own shape: the appends below are the store's.
    await ensureEventsTable(ways.lean, TABLE);
    if (!(ways.messages.config.requestHandler instanceof TransportHandler))
      throw new Error('the client of the server thread does not hand it messages');
    if (!sendsDirectly(ways.direct) || sendsDirectly(ways.messages))
      throw new Error(
        'only the project’s client of the server thread hands requests over directly',
      );
    const runs: Record<keyof typeof ways, { us_per_request: number; per_second: number }[]> = {
      direct: [],
      messages: [],
      lean: [],
      full_stack: [],
      signed: [],
    };
    let offset = 0;
    for (let r = 0; r <= rounds; r++) {
      for (const way of Object.keys(ways) as (keyof typeof ways)[]) {
        const result = await round(ways[way], requests, offset);
        offset += requests;
        if (r > 0) runs[way].push(result);
      }
    }
    // Every request of every way stored its item (each a key of its own).
    let stored = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await ways.lean.send(
        new ScanCommand({ TableName: TABLE, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      stored += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    if (stored !== offset) throw new Error(`${stored} items stored of ${offset} requests`);
    const figure = (way: keyof typeof ways) => ({
      us_per_request: Number(median(runs[way].map((x) => x.us_per_request)).toFixed(1)),
      per_second: Math.round(median(runs[way].map((x) => x.per_second))),
    });
    const direct = figure('direct');
    const messages = figure('messages');
    const lean = figure('lean');
    const full = figure('full_stack');
    const signed = figure('signed');
    return {
      scenario: name,
      stored,
      requests,
      rounds,
      concurrency: CONCURRENCY,
      removed: [...NOT_FOR_OWN_SERVERS],
      unit: 'µs of the sending thread per conditional PutItem to the embedded dynalite (median of the rounds); per_second: requests/s',
      direct,
      messages,
      lean,
      full_stack: full,
      signed,
      ratio_direct: Number((direct.us_per_request / messages.us_per_request).toFixed(3)),
      ratio_messages: Number((messages.us_per_request / lean.us_per_request).toFixed(3)),
      ratio_full_stack: Number((lean.us_per_request / full.us_per_request).toFixed(3)),
      ratio_signed: Number((lean.us_per_request / signed.us_per_request).toFixed(3)),
      ratio_note:
        'ratio_direct: the direct client’s time per request ÷ that of the SDK’s messages; ratio_messages: the messages’ ÷ the lean client’s over HTTP; the others: the lean client’s ÷ the other’s (below 1: the first costs less)',
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    for (const client of Object.values(ways)) client.destroy();
    await dynamo.stop();
  }
}

export type ClientResult = Awaited<ReturnType<typeof measure>>;

const name = process.argv[2];
const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && name) {
  if (!(CLIENT_SCENARIOS as readonly string[]).includes(name)) {
    process.stderr.write(`unknown scenario ${name}; known: ${CLIENT_SCENARIOS.join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await measure(name))}\n`);
}
