import { Duration } from 'aws-cdk-lib';
import { DEFAULT_PROFILE_NAME, PROFILES } from '../domain/rpi/RpiProfile.js';
import { DEFAULT_NODE, NODE_RUNTIMES, type NodeVersion } from './constructs/HandlerFunction.js';
import type { ConsumerSettings } from './constructs/StreamConsumer.js';
import type { MatchstreamSettings } from './MatchstreamStack.js';

const CONSUMERS = ['read-models', 'bus-router', 'sagas'] as const;

/**
 * Deployment settings from CDK context, each checked, with safe defaults:
 * `stage` (`dev`), `shards` (0: on-demand), `retentionHours` (24), `retainEvents` (true), `node`
 * (the functions' Node.js version: 22 or 24; 22), `tracing` (X-Ray; false), `sourceMaps`
 * (false), `warmThroughput` (`{"readUnitsPerSecond": n, "writeUnitsPerSecond": n}` for the
 * events and read-model tables; none), `rpiProfile` (the profile of automatic
 * recalculations; the default profile), `rpiDivision` (count only games within it; all),
 * `debounceMs` (how long an automatic recalculation waits for more results; 1000),
 * `debounceMaxMs` (how long after its first result one may wait while results keep arriving;
 * 60000; at or under `debounceMs`, a fixed wait),
 * `sagaSweepMinutes` (1), `handlerConcurrency` (the most instances each bus handler's queue
 * mapping runs, 2–1000; 5), `apiRateLimit` / `apiBurstLimit` (requests/s; 100 / 200),
 * `archiveInfrequentDays` / `archiveGlacierDays` (when the archive's exports move to S3
 * Standard-IA and to Glacier Instant Retrieval; 30 / 90), `rebuildConcurrency` (data files a
 * rebuild applies at once on AWS, 1–1000; 16), and
 * per consumer `consumers` = `{"read-models": {"batchSize": 500, "reservedConcurrency": 10}, ...}`
 * (batchSize, batchingWindowSeconds, parallelizationFactor, retryAttempts, maxRecordAgeHours,
 * reservedConcurrency, memorySize).
 */
export function settingsFromContext(get: (key: string) => unknown): MatchstreamSettings {
  const stage = String(get('stage') ?? 'dev');
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage))
    throw new Error(`context stage "${stage}": lower-case letters, digits and hyphens, up to 20`);
  const consumersRaw = parseObject(get('consumers'), 'consumers');
  const consumers: Record<string, ConsumerSettings> = {};
  for (const name of Object.keys(consumersRaw))
    if (!(CONSUMERS as readonly string[]).includes(name))
      throw new Error(`context consumers.${name}: no such consumer (${CONSUMERS.join(', ')})`);
  for (const name of CONSUMERS) consumers[name] = consumer(consumersRaw[name], name);
  return {
    stage,
    shards: whole(get('shards'), 'shards', 0, 500, 0),
    retentionHours: whole(get('retentionHours'), 'retentionHours', 24, 8760, 24),
    retainEvents: flag(get('retainEvents'), 'retainEvents', true),
    node: nodeVersion(get('node')),
    tracing: flag(get('tracing'), 'tracing', false),
    sourceMaps: flag(get('sourceMaps'), 'sourceMaps', false),
    warmThroughput: warmThroughput(get('warmThroughput')),
    consumers,
    rpi: {
      profile: profileName(get('rpiProfile')),
      division: optionalText(get('rpiDivision'), 'rpiDivision'),
      debounceMs: whole(get('debounceMs'), 'debounceMs', 0, 600_000, 1000),
      debounceMaxMs: whole(get('debounceMaxMs'), 'debounceMaxMs', 0, 3_600_000, 60_000),
    },
    sagaSweepMinutes: whole(get('sagaSweepMinutes'), 'sagaSweepMinutes', 1, 60, 1),
    handlerConcurrency: whole(get('handlerConcurrency'), 'handlerConcurrency', 2, 1000, 5),
    api: {
      rateLimit: whole(get('apiRateLimit'), 'apiRateLimit', 1, 10_000, 100),
      burstLimit: whole(get('apiBurstLimit'), 'apiBurstLimit', 1, 5000, 200),
    },
    archive: {
      infrequentAfterDays: whole(
        get('archiveInfrequentDays'),
        'archiveInfrequentDays',
        30,
        3650,
        30,
      ),
      glacierAfterDays: whole(get('archiveGlacierDays'), 'archiveGlacierDays', 60, 3650, 90),
    },
    rebuild: {
      concurrency: whole(get('rebuildConcurrency'), 'rebuildConcurrency', 1, 1000, 16),
    },
  };
}

function consumer(raw: unknown, name: string): ConsumerSettings {
  const o = parseObject(raw, `consumers.${name}`);
  const at = (k: string) => `consumers.${name}.${k}`;
  const opt = (k: string, min: number, max: number) =>
    o[k] === undefined ? undefined : whole(o[k], at(k), min, max, min);
  const batchSize = opt('batchSize', 1, 10_000);
  const window = opt('batchingWindowSeconds', 0, 300);
  const parallelizationFactor = opt('parallelizationFactor', 1, 10);
  const retryAttempts = opt('retryAttempts', 0, 10_000);
  const maxRecordAgeHours = opt('maxRecordAgeHours', 1, 168);
  const reservedConcurrency = opt('reservedConcurrency', 1, 1000);
  const memorySize = opt('memorySize', 128, 10_240);
  return {
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(window !== undefined ? { batchingWindow: seconds(window) } : {}),
    ...(parallelizationFactor !== undefined ? { parallelizationFactor } : {}),
    ...(retryAttempts !== undefined ? { retryAttempts } : {}),
    ...(maxRecordAgeHours !== undefined ? { maxRecordAge: hours(maxRecordAgeHours) } : {}),
    ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
    ...(memorySize !== undefined ? { memorySize } : {}),
  };
}

const seconds = (n: number) => Duration.seconds(n);
const hours = (n: number) => Duration.hours(n);

function nodeVersion(raw: unknown): NodeVersion {
  const versions = Object.keys(NODE_RUNTIMES).join(' or ');
  if (raw === undefined || raw === null || raw === '') return DEFAULT_NODE;
  const n = Number(raw);
  if (!Object.keys(NODE_RUNTIMES).includes(String(n)) || String(n) !== String(raw).trim())
    throw new Error(
      `context node: ${versions} is expected (Lambda no longer creates Node.js 20 functions)`,
    );
  return n as NodeVersion;
}

/** Warm throughput (units per second, each at least 1) or none. */
function warmThroughput(
  raw: unknown,
): { readonly readUnitsPerSecond?: number; readonly writeUnitsPerSecond?: number } | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const o = parseObject(raw, 'warmThroughput');
  const unknown = Object.keys(o).filter(
    (k) => k !== 'readUnitsPerSecond' && k !== 'writeUnitsPerSecond',
  );
  if (unknown.length > 0)
    throw new Error(
      `context warmThroughput.${unknown[0]}: readUnitsPerSecond and writeUnitsPerSecond are expected`,
    );
  const at = (k: string) =>
    o[k] === undefined ? undefined : whole(o[k], `warmThroughput.${k}`, 1, 10_000_000, 1);
  const read = at('readUnitsPerSecond');
  const write = at('writeUnitsPerSecond');
  if (read === undefined && write === undefined)
    throw new Error(
      'context warmThroughput: readUnitsPerSecond or writeUnitsPerSecond is expected',
    );
  return {
    ...(read !== undefined ? { readUnitsPerSecond: read } : {}),
    ...(write !== undefined ? { writeUnitsPerSecond: write } : {}),
  };
}

function profileName(raw: unknown): string {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_PROFILE_NAME;
  const name = String(raw);
  if (!PROFILES.has(name))
    throw new Error(
      `context rpiProfile: "${name}" is not one of ${[...PROFILES.keys()].join(', ')}`,
    );
  return name;
}

function optionalText(raw: unknown, name: string): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const text = String(raw);
  if (!/^[\w .&'-]{1,60}$/.test(text))
    throw new Error(`context ${name}: up to 60 letters, digits, spaces and . & ' - are expected`);
  return text;
}

function parseObject(raw: unknown, name: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  const value = typeof raw === 'string' ? safeJson(raw, name) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`context ${name}: an object is expected`);
  return value as Record<string, unknown>;
}

function safeJson(raw: string, name: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`context ${name}: not JSON`);
  }
}

function whole(raw: unknown, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`context ${name}: a whole number from ${min} to ${max} is expected`);
  return n;
}

function flag(raw: unknown, name: string, fallback: boolean): boolean {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(`context ${name}: true or false is expected`);
}
