import { Agent } from 'node:http';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BusEvent,
  type EventPattern,
  matchesPattern,
} from '../../../stream/buses/eventPattern.js';
import { type Moto, motoAvailable, startMoto } from '../../support/moto.js';

// Differential test: our matcher against moto_server's, on generated (pattern, event) pairs.
// moto 5 does not implement TestEventPattern (it answers 200 with no Result), so the oracle is
// real rule delivery: per pair, a bus with one rule holding the pattern and an SQS target whose
// input transformer names the pair; PutEvents puts the pair's event on that bus, and the pattern
// matched if and only if its message arrives. (Should moto implement TestEventPattern one day,
// the test also checks that it agrees with delivery.)
//
// Corners where moto departs from AWS are kept out of the generator (the matcher follows AWS):
// - moto treats an empty array as a present value (exists: true matches []): events never
//   carry empty arrays.
// - Python's True == 1: booleans live in a field of their own, never compared with numbers.
// - moto does not descend into arrays of objects, nor crush nested arrays: events have neither.
// - moto's wildcard `.` stops at newlines: generated strings have none.
// - moto's cidr accepts numbers (ipaddress.ip_address(5)) and never matches a network written
//   with host bits set: cidr is only applied to address strings, with exact network addresses.
// - moto passes the event time as epoch seconds, not ISO text: patterns leave `time` alone.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const SEED = 20_251_004;
const PAIRS = 520;
const CONCURRENCY = 6;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

const OPERATORS = [
  'exact',
  'prefix',
  'prefix-ignore-case',
  'suffix',
  'suffix-ignore-case',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'anything-but-prefix',
  'anything-but-suffix',
  'anything-but-ignore-case',
  'anything-but-wildcard',
  'numeric',
  'exists',
  'cidr',
  '$or',
] as const;

// ---------------------------------------------------------------------------------------------
// Events

/** What PutEvents carries; moto adds id, account, time and region. */
interface Posted {
  readonly source: string;
  readonly detailType: string;
  readonly resources: readonly string[];
  readonly detail: { readonly [key: string]: unknown };
}

const CHARS = [...'abcXYZ019-_./ *\\é'];
const text = fc.string({ unit: fc.constantFrom(...CHARS), maxLength: 8 });
const word = fc.oneof(
  fc.constantFrom('Alpha', 'alpha', 'ALPHA-1', 'beta*x', 'b\\c', '', 'Gamma.io/x', 'zZ'),
  text,
);
const name = fc.string({ unit: fc.constantFrom(...'abcXYZ.-'), minLength: 1, maxLength: 8 });
const num = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.integer({ min: -40, max: 40 }).map((n) => n / 2),
);
const octet = fc.oneof(fc.constantFrom(0, 1, 16, 168, 255), fc.integer({ min: 0, max: 255 }));
const ipv4 = fc
  .tuple(fc.constantFrom(10, 172, 192), octet, octet, octet)
  .map((parts) => parts.join('.'));
const hextet = fc.oneof(fc.constantFrom(0, 1, 0xdb8), fc.integer({ min: 0, max: 0xffff }));
const ipv6 = fc
  .tuple(fc.constantFrom(0x2001, 0xfd00), fc.array(hextet, { minLength: 7, maxLength: 7 }))
  .map(([first, rest]) => [first, ...rest].map((h) => h.toString(16)).join(':'));

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 5 });
}

const detailArb = fc
  .record({
    team: optional(word),
    city: optional(word),
    tags: optional(fc.array(word, { minLength: 1, maxLength: 3 })),
    score: optional(num),
    scores: optional(fc.array(num, { minLength: 1, maxLength: 3 })),
    final: optional(fc.boolean()),
    note: optional(fc.constantFrom(null, '')),
    ip: optional(fc.oneof(ipv4, ipv4, ipv6)),
    venue: optional(fc.record({ name: word, capacity: num })),
  })
  .map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)));

const postedArb: fc.Arbitrary<Posted> = fc.record({
  source: fc.oneof(fc.constantFrom('matchstream.ingest', 'Matchstream.Replay'), name),
  detailType: fc.oneof(fc.constantFrom('Game Recorded', 'game recorded'), name),
  resources: fc.array(
    fc.oneof(fc.constantFrom('arn:aws:s3:::feeds', 'arn:aws:s3:::Archive'), word),
    { minLength: 1, maxLength: 3 },
  ),
  detail: detailArb,
});

/** The event as EventBridge matches it, with the id moto gave it. */
function busEvent(posted: Posted, id: string): BusEvent {
  return {
    version: '0',
    id,
    'detail-type': posted.detailType,
    source: posted.source,
    account: ACCOUNT,
    time: new Date(0).toISOString(),
    region: REGION,
    resources: posted.resources,
    detail: posted.detail,
  };
}

// ---------------------------------------------------------------------------------------------
// Patterns

type Kind = 'text' | 'number' | 'flag' | 'blank' | 'ip' | 'absent';

interface Field {
  readonly path: readonly string[];
  readonly kind: Kind;
}

const FIELDS: readonly Field[] = [
  { path: ['source'], kind: 'text' },
  { path: ['detail-type'], kind: 'text' },
  { path: ['resources'], kind: 'text' },
  { path: ['account'], kind: 'text' },
  { path: ['region'], kind: 'text' },
  { path: ['detail', 'team'], kind: 'text' },
  { path: ['detail', 'city'], kind: 'text' },
  { path: ['detail', 'tags'], kind: 'text' },
  { path: ['detail', 'score'], kind: 'number' },
  { path: ['detail', 'scores'], kind: 'number' },
  { path: ['detail', 'final'], kind: 'flag' },
  { path: ['detail', 'note'], kind: 'blank' },
  { path: ['detail', 'ip'], kind: 'ip' },
  { path: ['detail', 'venue', 'name'], kind: 'text' },
  { path: ['detail', 'venue', 'capacity'], kind: 'number' },
  { path: ['detail', 'referee'], kind: 'absent' },
];

/** The values an event holds at a path (an array's elements), for deriving near-miss atoms. */
function valuesAt(event: BusEvent, path: readonly string[]): readonly unknown[] {
  let value: unknown = event;
  for (const key of path) {
    value = typeof value === 'object' && value !== null ? (value as BusEvent)[key] : undefined;
  }
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function pick<T>(values: readonly T[], fallback: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return values.length === 0 ? fallback : fc.oneof(fc.constantFrom(...values), fallback);
}

function flipCase(s: string): string {
  return [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

function escapeWildcard(s: string): string {
  return s.replace(/[\\*]/g, '\\$&');
}

/** A wildcard that matches `s` (a star over a middle slice, or stars around one). */
function wildcardFor(s: string): fc.Arbitrary<string> {
  const cut = fc
    .tuple(fc.nat(s.length), fc.nat(s.length))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);
  return fc.oneof(
    cut.map(([a, b]) => `${escapeWildcard(s.slice(0, a))}*${escapeWildcard(s.slice(b))}`),
    cut.map(([a, b]) => (a === b ? '*' : `*${escapeWildcard(s.slice(a, b))}*`)),
  );
}

function textAtom(values: readonly string[]): fc.Arbitrary<unknown> {
  const basis = pick(values, word);
  const near = basis.chain((s) => fc.constantFrom(s, flipCase(s), `${s}x`, s.slice(1)));
  const nonEmpty = near.map((s) => (s === '' ? 'a' : s));
  const affix = (from: 'start' | 'end') =>
    basis.chain((s) =>
      fc.nat(s.length).map((n) => (from === 'start' ? s.slice(0, n) : s.slice(s.length - n))),
    );
  return fc.oneof(
    basis,
    near,
    affix('start').map((p) => ({ prefix: p })),
    affix('start').map((p) => ({ prefix: { 'equals-ignore-case': flipCase(p) } })),
    affix('end').map((p) => ({ suffix: p })),
    affix('end').map((p) => ({ suffix: { 'equals-ignore-case': flipCase(p) } })),
    near.map((s) => ({ 'equals-ignore-case': s })),
    basis.chain(wildcardFor).map((w) => ({ wildcard: w })),
    near.map((s) => ({ 'anything-but': s })),
    fc.array(near, { minLength: 1, maxLength: 3 }).map((l) => ({ 'anything-but': l })),
    nonEmpty.map((s) => ({ 'anything-but': { prefix: s.slice(0, 2) || s } })),
    nonEmpty.map((s) => ({ 'anything-but': { suffix: s.slice(-2) || s } })),
    fc
      .array(near, { minLength: 1, maxLength: 2 })
      .map((l) => ({ 'anything-but': { 'equals-ignore-case': l.length === 1 ? l[0] : l } })),
    basis.chain(wildcardFor).map((w) => ({ 'anything-but': { wildcard: w } })),
    fc.boolean().map((b) => ({ exists: b })),
    num.map((n) => ({ numeric: ['>', n] })),
  );
}

function numericAtom(values: readonly number[]): fc.Arbitrary<unknown> {
  const basis = pick(values, num);
  const near = fc.tuple(basis, fc.constantFrom(-1, -0.5, 0, 0, 0.5, 1)).map(([n, d]) => n + d);
  const op = fc.constantFrom('=', '<', '<=', '>', '>=');
  const range = fc
    .tuple(
      near,
      fc.constantFrom(0.5, 1, 2, 5),
      fc.constantFrom('>', '>='),
      fc.constantFrom('<', '<='),
    )
    .map(([low, width, from, to]) => ({ numeric: [from, low - width / 2, to, low + width / 2] }));
  return fc.oneof(
    basis,
    near,
    fc.tuple(op, near).map((comparison) => ({ numeric: comparison })),
    range,
    near.map((n) => ({ 'anything-but': n })),
    fc.array(near, { minLength: 1, maxLength: 3 }).map((l) => ({ 'anything-but': l })),
    fc.boolean().map((b) => ({ exists: b })),
    basis.map((n) => ({ prefix: String(n) })),
  );
}

function ipAtom(values: readonly string[]): fc.Arbitrary<unknown> {
  const basis = pick(values, fc.oneof(ipv4, ipv6));
  return fc.oneof(
    basis.chain(networkFor).map((cidr) => ({ cidr })),
    basis.chain(networkFor).map((cidr) => ({ cidr })),
    fc.constantFrom('10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32').map((cidr) => ({ cidr })),
    basis,
    basis.map((ip) => ({ prefix: ip.slice(0, 4) })),
    fc.boolean().map((b) => ({ exists: b })),
  );
}

/** A network (exact network address, so moto's strict parser accepts it) holding `ip`. */
function networkFor(ip: string): fc.Arbitrary<string> {
  const v4 = !ip.includes(':');
  const width = v4 ? 32 : 128;
  const value = v4
    ? ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n)
    : ip.split(':').reduce((acc, h) => (acc << 16n) | BigInt(Number.parseInt(h, 16)), 0n);
  const masks = v4 ? [8, 16, 24, 30, 32] : [16, 32, 64, 112, 128];
  return fc.constantFrom(...masks).map((mask) => {
    const host = BigInt(width - mask);
    const network = (value >> host) << host;
    return `${formatAddress(network, v4)}/${mask}`;
  });
}

function formatAddress(value: bigint, v4: boolean): string {
  const [count, bits, radix] = v4 ? [4, 8n, 10] : [8, 16n, 16];
  const mask = (1n << bits) - 1n;
  return Array.from({ length: count }, (_, i) =>
    ((value >> (bits * BigInt(count - 1 - i))) & mask).toString(radix),
  ).join(v4 ? '.' : ':');
}

function atomFor(field: Field, event: BusEvent): fc.Arbitrary<unknown> {
  const values = valuesAt(event, field.path);
  switch (field.kind) {
    case 'text':
      return textAtom(values.filter((v): v is string => typeof v === 'string'));
    case 'number':
      return numericAtom(values.filter((v): v is number => typeof v === 'number'));
    case 'flag':
      return fc.oneof(
        fc.boolean(),
        fc.boolean().map((b) => ({ exists: b })),
      );
    case 'blank':
      return fc.oneof(
        fc.constantFrom(null, ''),
        fc.constantFrom('', 'x').map((s) => ({ 'anything-but': s })),
        fc.boolean().map((b) => ({ exists: b })),
      );
    case 'ip':
      return ipAtom(values.filter((v): v is string => typeof v === 'string'));
    case 'absent':
      return fc.oneof(
        fc.boolean().map((b) => ({ exists: b })),
        fc.constant({ 'anything-but': 'x' }),
        word,
      );
  }
}

/** A leaf: one or two atoms for a field, derived from the event so about half match. */
function leafFor(field: Field, event: BusEvent): fc.Arbitrary<unknown[]> {
  return fc.array(atomFor(field, event), { minLength: 1, maxLength: 2 });
}

function nest(path: readonly string[], leaf: unknown): EventPattern {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), leaf) as EventPattern;
}

/** Merges nested pattern objects (paths are distinct, so no leaf is overwritten). */
function merge(a: EventPattern, b: EventPattern): EventPattern {
  const out: { [key: string]: unknown } = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key];
    out[key] = isObject(mine) && isObject(value) ? merge(mine, value) : value;
  }
  return out;
}

function isObject(value: unknown): value is EventPattern {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A pattern for an event: 1–2 field conditions and, for some, a `$or` group of 2–3 alternatives
 * (at the top, or inside `detail`), all on distinct fields.
 */
function patternFor(event: BusEvent): fc.Arbitrary<EventPattern> {
  return fc
    .record({
      fields: fc.shuffledSubarray([...FIELDS], { minLength: 5, maxLength: 5 }),
      plain: fc.integer({ min: 1, max: 2 }),
      or: fc.constantFrom('none', 'none', 'top', 'detail'),
      alternatives: fc.integer({ min: 2, max: 3 }),
    })
    .chain(({ fields, plain, or, alternatives }) => {
      const main = fields.slice(0, plain);
      const scope = or === 'detail' ? FIELDS.filter((f) => f.path[0] === 'detail') : FIELDS;
      const orFields = or === 'none' ? [] : fields.slice(plain).filter((f) => scope.includes(f));
      const conditions = main.map((f) => leafFor(f, event).map((leaf) => nest(f.path, leaf)));
      const alts = orFields
        .slice(0, alternatives)
        .map((f) =>
          leafFor(f, event).map((leaf) => nest(or === 'detail' ? f.path.slice(1) : f.path, leaf)),
        );
      return fc.tuple(fc.tuple(...conditions), fc.tuple(...alts)).map(([parts, orParts]) => {
        const base = parts.reduce(merge, {});
        if (orParts.length < 2) return base;
        return or === 'detail'
          ? merge(base, { detail: { $or: orParts } })
          : merge(base, { $or: orParts });
      });
    });
}

interface Pair {
  readonly posted: Posted;
  readonly pattern: EventPattern;
}

const pairArb: fc.Arbitrary<Pair> = postedArb.chain((posted) =>
  patternFor(busEvent(posted, 'generated')).map((pattern) => ({ posted, pattern })),
);

/** The operators a pattern uses, for the coverage check. */
function operatorsIn(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const atom of node) found.add(isObject(atom) ? operatorName(atom) : 'exact');
  } else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$or') {
        found.add('$or');
        for (const alt of value as unknown[]) operatorsIn(alt, found);
      } else operatorsIn(value, found);
    }
  }
  return found;
}

function operatorName(atom: EventPattern): string {
  const [operator = '', argument] = Object.entries(atom)[0] ?? [];
  if ((operator === 'prefix' || operator === 'suffix') && isObject(argument)) {
    return `${operator}-ignore-case`;
  }
  if (operator === 'anything-but' && isObject(argument)) {
    const nested = Object.keys(argument)[0];
    return `anything-but-${nested === 'equals-ignore-case' ? 'ignore-case' : nested}`;
  }
  return operator;
}

// ---------------------------------------------------------------------------------------------
// moto as the oracle

interface Clients {
  readonly eventBridge: EventBridgeClient;
  readonly sqs: SQSClient;
}

function clientConfig(endpoint: string) {
  return {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true }) }),
  };
}

interface Queue {
  readonly url: string;
  readonly arn: string;
}

async function createQueue(sqs: SQSClient, queueName: string): Promise<Queue> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (QueueUrl === undefined || arn === undefined) throw new Error(`no queue ${queueName}`);
  return { url: QueueUrl, arn };
}

/** A bus of its own for pair `i`, with one rule holding the pattern and the queue as target. */
async function putRule(eventBridge: EventBridgeClient, i: number, pair: Pair, queue: Queue) {
  const bus = busName(i);
  await eventBridge.send(new CreateEventBusCommand({ Name: bus }));
  await eventBridge.send(
    new PutRuleCommand({
      Name: 'pattern',
      EventBusName: bus,
      EventPattern: JSON.stringify(pair.pattern),
    }),
  );
  const { FailedEntryCount } = await eventBridge.send(
    new PutTargetsCommand({
      Rule: 'pattern',
      EventBusName: bus,
      Targets: [
        {
          Id: 'oracle',
          Arn: queue.arn,
          // moto runs a JSONPath parse per delivery and path: one path keeps that cheap.
          InputTransformer: {
            InputPathsMap: { id: '$.id' },
            InputTemplate: `{"pair": ${i}, "id": "<id>"}`,
          },
        },
      ],
    }),
  );
  if (FailedEntryCount) throw new Error(`PutTargets failed on ${bus}`);
}

function busName(i: number): string {
  return `oracle-${i}`;
}

/** Puts each pair's event on the pair's bus (10 a call) and returns the ids moto gave them. */
async function putEvents(
  eventBridge: EventBridgeClient,
  pairs: readonly Pair[],
  first: number,
): Promise<string[]> {
  const { Entries = [], FailedEntryCount } = await eventBridge.send(
    new PutEventsCommand({
      Entries: pairs.map(({ posted }, k) => ({
        EventBusName: busName(first + k),
        Source: posted.source,
        DetailType: posted.detailType,
        Resources: [...posted.resources],
        Detail: JSON.stringify(posted.detail),
      })),
    }),
  );
  const ids = Entries.map((e) => e.EventId);
  if (FailedEntryCount || ids.length !== pairs.length || ids.some((id) => id === undefined)) {
    throw new Error(`PutEvents failed: ${JSON.stringify(Entries)}`);
  }
  return ids as string[];
}

/** Receives every message; moto delivers during PutEvents, so none comes late. */
async function drain(sqs: SQSClient, queue: Queue): Promise<Set<string>> {
  const delivered = new Set<string>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 600,
      }),
    );
    if (Messages.length === 0) return delivered;
    for (const { Body = '{}' } of Messages) {
      const { pair, id } = JSON.parse(Body) as { pair: number; id: string };
      delivered.add(`${pair}:${id}`);
    }
  }
}

/** Whether moto implements TestEventPattern (moto 5 answers 200 without a Result). */
async function testEventPatternWorks(eventBridge: EventBridgeClient): Promise<boolean> {
  const probe = { source: 'probe', detailType: 'Probe', resources: ['probe'], detail: {} };
  try {
    const { Result } = await eventBridge.send(
      new TestEventPatternCommand({
        EventPattern: JSON.stringify({ source: ['probe'] }),
        Event: JSON.stringify(busEvent(probe, 'probe-id')),
      }),
    );
    return typeof Result === 'boolean';
  } catch {
    return false;
  }
}

async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, c) =>
    items.slice(c * size, (c + 1) * size),
  );
}

// ---------------------------------------------------------------------------------------------

interface Verdict {
  readonly pattern: EventPattern;
  readonly event: BusEvent;
  readonly ours: boolean;
  readonly moto: boolean;
}

function describeDisagreement(v: Verdict): string {
  return [
    `pattern: ${JSON.stringify(v.pattern)}`,
    `event:   ${JSON.stringify(v.event)}`,
    `ours: ${v.ours}, moto: ${v.moto}`,
  ].join('\n');
}

describe.runIf(motoAvailable())('event patterns against moto_server', () => {
  let moto: Moto;
  let clients: Clients;

  beforeAll(async () => {
    moto = await startMoto();
    clients = {
      eventBridge: new EventBridgeClient(clientConfig(moto.endpoint)),
      sqs: new SQSClient(clientConfig(moto.endpoint)),
    };
  });

  afterAll(async () => {
    clients?.eventBridge.destroy();
    clients?.sqs.destroy();
    await moto?.stop();
  });

  it('agrees with rule delivery on every generated pattern and event', async () => {
    // Prepare
    const started = Date.now();
    const pairs = fc.sample(pairArb, { seed: SEED, numRuns: PAIRS });
    const testEventPattern = await testEventPatternWorks(clients.eventBridge);
    console.log(
      `eventPatternMoto: seed ${SEED}, ${pairs.length} pairs; TestEventPattern ${
        testEventPattern ? 'implemented' : 'not implemented by moto, so rules are the oracle'
      }`,
    );
    const queue = await createQueue(clients.sqs, 'oracle');
    await mapConcurrently(pairs, CONCURRENCY, (pair, i) =>
      putRule(clients.eventBridge, i, pair, queue),
    );

    // Act
    const idChunks = await mapConcurrently(chunks(pairs, 10), CONCURRENCY, (chunk, c) =>
      putEvents(clients.eventBridge, chunk, c * 10),
    );
    const ids = idChunks.flat();
    const delivered = await drain(clients.sqs, queue);
    const verdicts: Verdict[] = pairs.map(({ pattern, posted }, i) => {
      const event = busEvent(posted, ids[i] as string);
      return {
        pattern,
        event,
        ours: matchesPattern(pattern, event),
        moto: delivered.has(`${i}:${ids[i]}`),
      };
    });

    // Assess
    const disagreements = verdicts.filter((v) => v.ours !== v.moto);
    const coverage = operatorCoverage(pairs);
    const matched = verdicts.filter((v) => v.moto).length;
    console.log(
      `eventPatternMoto: ${matched} of ${verdicts.length} pairs match, ${disagreements.length} ` +
        `disagreements, ${Date.now() - started} ms; pairs per operator: ${JSON.stringify(
          Object.fromEntries(coverage),
        )}`,
    );
    expect(disagreements.length, disagreements.map(describeDisagreement).join('\n\n')).toBe(0);
    expect(delivered.size).toBe(matched);
    expect(verdicts.length).toBeGreaterThanOrEqual(500);
    expect(matched / verdicts.length).toBeGreaterThanOrEqual(0.25);
    expect(matched / verdicts.length).toBeLessThanOrEqual(0.75);
    for (const [op, count] of coverage)
      expect(count, `pairs using ${op}`).toBeGreaterThanOrEqual(20);
    if (testEventPattern) await expectTestEventPatternAgrees(clients.eventBridge, verdicts);
  });
});

function operatorCoverage(pairs: readonly Pair[]): Map<string, number> {
  const coverage = new Map<string, number>(OPERATORS.map((op) => [op, 0]));
  for (const { pattern } of pairs) {
    for (const op of operatorsIn(pattern)) coverage.set(op, (coverage.get(op) ?? 0) + 1);
  }
  return coverage;
}

/** Where moto implements TestEventPattern, its answers must be the rules' answers. */
async function expectTestEventPatternAgrees(
  eventBridge: EventBridgeClient,
  verdicts: readonly Verdict[],
): Promise<void> {
  const agreements = await mapConcurrently(verdicts, CONCURRENCY, async (v) => {
    const { Result } = await eventBridge.send(
      new TestEventPatternCommand({
        EventPattern: JSON.stringify(v.pattern),
        Event: JSON.stringify(v.event),
      }),
    );
    return Result === v.moto;
  });
  expect(agreements.filter((agrees) => !agrees).length).toBe(0);
}
