/** How hard a batch helper tries before it hands an entry back as failed. */
export interface ReliableOptions {
  /** Attempts per entry, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** The first retry waits up to this long, and each further retry up to twice as long. @default 100 */
  readonly baseDelayMs?: number;
  /** No wait is longer. @default 5000 */
  readonly maxDelayMs?: number;
  /** Stops sending: what was not acknowledged yet comes back as failed with code 'Aborted'. */
  readonly signal?: AbortSignal;
  /** How a wait between attempts is made (a test's clock). @default a timer, cut short by `signal` */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * The wait before retry `retry` (from 1), with full jitter: uniform in
 * [0, min(maxDelayMs, baseDelayMs · 2^(retry−1))). Jitter keeps many writers throttled at the
 * same moment from retrying at the same moment.
 */
export function backoffDelay(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * Math.max(0, ceiling));
}

/** What one call said about one entry: acknowledged, or failed with the service's code. */
export type EntryOutcome<A> =
  | { readonly ack: A }
  | {
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly retryable: boolean;
      /** What the whole call threw, when it did. */
      readonly error?: unknown;
    };

/** A batch API as `sendInBatches` sees it. */
export interface BatchApi<T, A> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** What an entry counts for against `maxBytes`. */
  size(entry: T): number;
  /** Why an entry can never be sent (it is failed up front), or undefined. */
  refuse(entry: T): { readonly errorCode: string; readonly errorMessage: string } | undefined;
  /** One call: an outcome per entry, in order. Throws when the whole call fails. */
  send(batch: readonly T[], signal: AbortSignal | undefined): Promise<readonly EntryOutcome<A>[]>;
}

/** Every entry exactly once: acknowledged, or failed with the last code seen. Input order. */
export interface Delivery<T, A> {
  readonly sent: { readonly entry: T; readonly ack: A }[];
  readonly failed: {
    readonly entry: T;
    readonly errorCode: string;
    readonly errorMessage: string;
    /** What the whole call threw, when the last attempt failed that way. */
    readonly error?: unknown;
  }[];
  /** The most attempts any entry took (0 when nothing was sent). */
  readonly attempts: number;
}

interface Pending<T> {
  readonly index: number;
  readonly entry: T;
  readonly size: number;
  attempts: number;
}

type Settled<T, A> =
  | { readonly entry: T; readonly ack: A }
  | {
      readonly entry: T;
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly error?: unknown;
    };

/**
 * Sends `entries` in calls as full as the API's limits allow and retries, with backoff, only
 * the entries that failed retryably, ahead of those not sent yet and in their order. A
 * whole-call error fails or retries the whole call's entries by `isRetryableError`. Never
 * throws for an entry: what cannot be sent comes back in `failed`, for a dead-letter path.
 */
export async function sendInBatches<T, A>(
  entries: readonly T[],
  api: BatchApi<T, A>,
  options: ReliableOptions = {},
): Promise<Delivery<T, A>> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 8);
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const { signal } = options;
  const wait = options.sleep ?? sleep;
  const settled: Settled<T, A>[] = new Array(entries.length);
  const queue: Pending<T>[] = [];
  entries.forEach((entry, index) => {
    const refusal = api.refuse(entry);
    if (refusal) settled[index] = { entry, ...refusal };
    else queue.push({ index, entry, size: api.size(entry), attempts: 0 });
  });

  let head = 0;
  let attempts = 0;
  while (head < queue.length) {
    if (signal?.aborted) {
      for (const p of queue.slice(head)) settled[p.index] = { entry: p.entry, ...ABORTED };
      break;
    }
    let end = head;
    let bytes = 0;
    let retry = 0;
    for (; end < queue.length && end - head < api.maxEntries; end++) {
      const p = queue[end] as Pending<T>;
      if (end > head && bytes + p.size > api.maxBytes) break;
      bytes += p.size;
      retry = Math.max(retry, p.attempts);
    }
    if (retry > 0) {
      await wait(backoffDelay(retry, baseDelayMs, maxDelayMs), signal);
      if (signal?.aborted) continue;
    }
    const batch = queue.slice(head, end);
    for (const p of batch) {
      p.attempts++;
      attempts = Math.max(attempts, p.attempts);
    }

    let outcomes: readonly EntryOutcome<A>[];
    try {
      outcomes = await api.send(
        batch.map((p) => p.entry),
        signal,
      );
    } catch (error) {
      // Aborted in flight: whether the call was applied is unknown, so it is not retried.
      const outcome = signal?.aborted
        ? { ...ABORTED, retryable: false }
        : { ...describeError(error), retryable: isRetryableError(error), error };
      outcomes = batch.map(() => outcome);
    }

    const again: Pending<T>[] = [];
    batch.forEach((p, i) => {
      const outcome = outcomes[i] ?? MISSING;
      if ('ack' in outcome) settled[p.index] = { entry: p.entry, ack: outcome.ack };
      else if (outcome.retryable && p.attempts < maxAttempts) again.push(p);
      else
        settled[p.index] = {
          entry: p.entry,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
          ...('error' in outcome ? { error: outcome.error } : {}),
        };
    });
    // The retries go back in front of what was not sent yet, in their order.
    head = end - again.length;
    again.forEach((p, i) => {
      queue[head + i] = p;
    });
  }

  const sent: Delivery<T, A>['sent'] = [];
  const failed: Delivery<T, A>['failed'] = [];
  for (const s of settled) {
    if ('ack' in s) sent.push(s);
    else failed.push(s);
  }
  return { sent, failed, attempts };
}

const MISSING = {
  errorCode: 'MissingResult',
  errorMessage: 'the response had no result for this entry',
  retryable: true,
} as const;

const ABORTED = {
  errorCode: 'Aborted',
  errorMessage: 'aborted before it was acknowledged (it may have been written)',
} as const;

// Error names the SDKs treat as throttling or transient, and Node's transient socket errors.
const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'KMSThrottlingException',
  'SlowDown',
  'InternalFailure',
  'InternalFailureException',
  'InternalException',
  'InternalServerError',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

interface ErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

/**
 * Whether a whole-call error (thrown after the SDK's own retries) is worth another try later:
 * throttling, a 5xx or 429, or a dropped connection. Validation, missing resources and
 * permissions are not.
 */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorLike;
  if (e.$retryable) return true;
  if (typeof e.name === 'string' && RETRYABLE_NAMES.has(e.name)) return true;
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

/** An error's stable code (the SDK's error name, or Node's error code) and message. */
export function describeError(error: unknown): { errorCode: string; errorMessage: string } {
  if (typeof error !== 'object' || error === null)
    return { errorCode: 'UnknownError', errorMessage: String(error) };
  const e = error as ErrorLike;
  const errorCode =
    typeof e.name === 'string' && e.name !== 'Error'
      ? e.name
      : typeof e.code === 'string'
        ? e.code
        : 'UnknownError';
  return { errorCode, errorMessage: typeof e.message === 'string' ? e.message : '' };
}

/** Waits `ms`, or less if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
