import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { historyProgress } from '../../../pipeline/aws/rebuildOnAws.js';

/** History events as GetExecutionHistory returns them with `reverseOrder`: newest first. */
const entered = (name: string): HistoryEvent =>
  ({ type: 'TaskStateEntered', stateEnteredEventDetails: { name } }) as HistoryEvent;
const succeeded = (output: unknown): HistoryEvent =>
  ({
    type: 'LambdaFunctionSucceeded',
    lambdaFunctionSucceededEventDetails: { output: JSON.stringify(output) },
  }) as HistoryEvent;
const run = (deferring: object) => ({ projection: 'standings', execution: 'x', deferring });

describe("a rebuild run's progress, from its newest history events", () => {
  it('counts the deferred streams the last part of ApplyDeferredStreams got to', () => {
    const history = [
      entered('ApplyDeferredStreams'),
      entered('DeferredDone?'),
      succeeded(run({ key: 'k', streams: 250_000, next: 40_000, done: false })),
      entered('ApplyDeferredStreams'),
    ];

    expect(historyProgress(history)).toEqual({
      state: 'ApplyDeferredStreams',
      streams: { total: 250_000, done: 40_000 },
    });
    expect(historyProgress(history.slice(1)).streams).toEqual({ total: 250_000, done: 40_000 });
  });

  it('counts none in any other state, once the list is done, or when the output cannot be read', () => {
    const done = succeeded(run({ key: 'k', streams: 10, next: 10, done: true }));
    const part = succeeded(run({ key: 'k', streams: 10, next: 4, done: false }));

    expect(historyProgress([entered('Feed'), part])).toEqual({ state: 'Feed', streams: null });
    expect(historyProgress([entered('DeferredDone?'), done]).streams).toBeNull();
    // The first call, before any part: the files' list is the newest output.
    expect(
      historyProgress([entered('ApplyDeferredStreams'), succeeded({ files: {} })]).streams,
    ).toBeNull();
    const cut = {
      type: 'LambdaFunctionSucceeded',
      lambdaFunctionSucceededEventDetails: { output: '{"deferring": {"str' },
    } as HistoryEvent;
    expect(historyProgress([entered('ApplyDeferredStreams'), cut]).streams).toBeNull();
    expect(historyProgress([])).toEqual({ state: null, streams: null });
  });
});
