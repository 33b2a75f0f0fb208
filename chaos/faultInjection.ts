/**
 * Faults injected into an AWS SDK client, at configurable rates, to prove that the pipeline
 * converges to the same result with nothing lost (the chaos suite). Two middlewares:
 *
 * - inside the SDK's retry loop (step `deserialize`): throttling (`ThrottlingException`), server
 *   errors (HTTP 500) and timeouts (`TimeoutError`), thrown before the request is sent, and
 *   "lost answers": the request is sent and done, then a `TimeoutError` is thrown, so the SDK
 *   sends it again (a conditional put then finds its own item);
 * - around the call (step `initialize`): partial failures of the batch APIs, on answers that
 *   succeeded: `BatchWriteItem` reports some of its items as `UnprocessedItems`,
 *   `BatchGetItem` withholds some keys as `UnprocessedKeys`, `PutRecords` and `PutEvents`
 *   report some entries failed (`FailedRecordCount`, `FailedEntryCount`). The caller must
 *   retry exactly those (written already or not: the retries must be harmless).
 */
import { sendThroughSdk } from '../stream/aws/directJson.js';
import type { Rng } from './rng.js';

/** Probability of each fault on each call (0 to 1). */
export interface FaultRates {
  readonly throttle?: number;
  readonly serverError?: number;
  readonly timeout?: number;
  /** Sent, then answered with a timeout: the SDK sends it again. */
  readonly lostAnswer?: number;
  /** A batch call reports part of its entries as failed. */
  readonly partial?: number;
  /**
   * Each kind of fault (of those with a rate above 0) once first, in turn, whatever the dice
   * say; then at the rates. For runs too short for every kind to come up by chance.
   */
  readonly eachKindFirst?: boolean;
}

/** How many faults of each kind were injected. */
export type FaultCounts = Record<
  'throttle' | 'serverError' | 'timeout' | 'lostAnswer' | 'partial',
  number
>;

interface MiddlewareStack {
  add(middleware: unknown, options: { step: string; name: string; priority?: string }): void;
}

function injectedError(name: string, status: number, throttling: boolean): Error {
  const error = new Error(`injected ${name}`) as Error & Record<string, unknown>;
  error.name = name;
  error.$fault = status >= 500 ? 'server' : 'client';
  error.$metadata = { httpStatusCode: status };
  if (throttling) error.$retryable = { throttling: true };
  return error;
}

type Output = Record<string, unknown>;

/** Marks part of a successful batch answer as failed; true when it did. */
function partialFailure(command: string, input: Output, output: Output, rng: Rng): boolean {
  if (command === 'BatchWriteItemCommand') {
    const requests = input.RequestItems as Record<string, unknown[]> | undefined;
    const unprocessed: Record<string, unknown[]> = {};
    for (const [table, items] of Object.entries(requests ?? {})) {
      const some = items.filter(() => rng() < 0.5);
      if (some.length > 0) unprocessed[table] = some;
    }
    if (Object.keys(unprocessed).length === 0) return false;
    output.UnprocessedItems = unprocessed;
    return true;
  }
  if (command === 'BatchGetItemCommand') {
    const requests = input.RequestItems as Record<string, { Keys: Output[] }> | undefined;
    const responses = (output.Responses ?? {}) as Record<string, Output[]>;
    const unprocessed: Record<string, { Keys: Output[] }> = {};
    for (const [table, request] of Object.entries(requests ?? {})) {
      const withheld = request.Keys.filter(() => rng() < 0.5);
      if (withheld.length === 0) continue;
      unprocessed[table] = { ...request, Keys: withheld };
      const names = Object.keys(withheld[0] ?? {});
      const same = (a: Output, b: Output) =>
        names.every((n) => JSON.stringify(a[n]) === JSON.stringify(b[n]));
      responses[table] = (responses[table] ?? []).filter(
        (item) => !withheld.some((k) => same(k, item)),
      );
    }
    if (Object.keys(unprocessed).length === 0) return false;
    output.UnprocessedKeys = unprocessed;
    return true;
  }
  if (command === 'PutRecordsCommand' || command === 'PutEventsCommand') {
    const key = command === 'PutRecordsCommand' ? 'Records' : 'Entries';
    const entries = output[key] as Output[] | undefined;
    if (!entries || entries.length === 0) return false;
    let failed = 0;
    const marked = entries.map((e) => {
      if (rng() >= 0.3) return e;
      failed++;
      return command === 'PutRecordsCommand'
        ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'injected' }
        : { ErrorCode: 'ThrottlingException', ErrorMessage: 'injected' };
    });
    if (failed === 0) return false;
    output[key] = marked;
    output[command === 'PutRecordsCommand' ? 'FailedRecordCount' : 'FailedEntryCount'] = failed;
    return true;
  }
  return false;
}

/**
 * Adds the faults to a client (any AWS SDK v3 client). Returns the counts, which grow as
 * faults are injected.
 */
export function injectFaults(
  client: { middlewareStack: unknown },
  rates: FaultRates,
  rng: Rng,
): FaultCounts {
  const counts: FaultCounts = {
    throttle: 0,
    serverError: 0,
    timeout: 0,
    lostAnswer: 0,
    partial: 0,
  };
  const stack = client.middlewareStack as MiddlewareStack;
  // Requests handed to the server thread directly would not reach the faults' step.
  sendThroughSdk(client as { middlewareStack: { remove(name: string): boolean } });
  // With `eachKindFirst`: the kinds still to inject once (a call-level fault is an edge just
  // below which the roll is forced; a partial failure waits for a batch call).
  const kinds = ['throttle', 'serverError', 'timeout', 'lostAnswer'] as const;
  const first = rates.eachKindFirst ? kinds.filter((k) => (rates[k] ?? 0) > 0) : [];
  let partialFirst = rates.eachKindFirst === true && (rates.partial ?? 0) > 0;
  const forcedRoll = (kind: (typeof kinds)[number]) => {
    let edge = 0;
    for (const k of kinds) {
      if (k === kind) return edge + (rates[k] ?? 0) / 2;
      edge += rates[k] ?? 0;
    }
    return edge;
  };
  stack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      const kind = first.shift();
      const roll = kind ? forcedRoll(kind) : rng();
      let edge = rates.throttle ?? 0;
      if (roll < edge) {
        counts.throttle++;
        throw injectedError('ThrottlingException', 400, true);
      }
      edge += rates.serverError ?? 0;
      if (roll < edge) {
        counts.serverError++;
        throw injectedError('InternalServerError', 500, false);
      }
      edge += rates.timeout ?? 0;
      if (roll < edge) {
        counts.timeout++;
        throw injectedError('TimeoutError', 0, false);
      }
      edge += rates.lostAnswer ?? 0;
      const result = await next(args);
      if (roll < edge) {
        counts.lostAnswer++;
        throw injectedError('TimeoutError', 0, false);
      }
      return result;
    },
    { step: 'deserialize', name: 'matchstreamInjectedFaults', priority: 'low' },
  );
  stack.add(
    (next: (args: unknown) => Promise<{ output: Output }>, context: { commandName?: string }) =>
      async (args: { input: Output }) => {
        const result = await next(args);
        if (
          (partialFirst || rng() < (rates.partial ?? 0)) &&
          partialFailure(context.commandName ?? '', args.input, result.output, rng)
        ) {
          counts.partial++;
          partialFirst = false;
        }
        return result;
      },
    { step: 'initialize', name: 'matchstreamInjectedPartialFailures', priority: 'low' },
  );
  return counts;
}
