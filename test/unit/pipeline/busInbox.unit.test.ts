import { describe, expect, it } from 'vitest';
import {
  type InboxRecord,
  inboxHandler,
  inboxRecordContext,
} from '../../../pipeline/aws/busInbox.js';
import type { OutgoingMessage } from '../../../stream/aws/sendMessagesReliably.js';
import { DependencyUnavailable } from '../../../stream/breaker/DependencyUnavailable.js';
import type { BusEvent } from '../../../stream/buses/eventPattern.js';

const NOW = Date.parse('2026-10-01T12:00:00Z');

function record(id: string, detail: unknown = { id }): InboxRecord {
  return {
    messageId: `m-${id}`,
    body: JSON.stringify({
      id,
      source: 'matchstream.soccer',
      'detail-type': 'MatchRecorded',
      detail,
    }),
    attributes: { ApproximateReceiveCount: '1' },
  };
}

/** A handler that fails on the events named in `fail`, and holds from `holdFrom` on. */
function handler(options: { fail?: string[]; holdFrom?: string; retryInMs?: number }) {
  const handled: string[] = [];
  let holding = false;
  const handle = async (event: BusEvent) => {
    const id = String((event as { id: string }).id);
    if (id === options.holdFrom) holding = true;
    if (holding)
      // As the stores throw it: the breaker's error inside another.
      throw new Error('write failed', {
        cause: new DependencyUnavailable(
          'match-event-handler/saga-work',
          NOW + (options.retryInMs ?? 7_500),
          'HTTP 503',
        ),
      });
    if (options.fail?.includes(id)) throw new Error(`cannot handle ${id}`);
    handled.push(id);
  };
  return { handle, handled };
}

function requeueInto(sent: OutgoingMessage[], refuse = new Set<string>()) {
  return async (messages: readonly OutgoingMessage[]) => ({
    sent: messages
      .filter((m) => !refuse.has(JSON.parse(m.body).id))
      .map((message, i) => {
        sent.push(message);
        return { message, messageId: `new-${i}` };
      }),
    failed: messages
      .filter((m) => refuse.has(JSON.parse(m.body).id))
      .map((message) => ({ message, errorCode: 'KmsThrottled', errorMessage: 'slow down' })),
  });
}

describe('a bus handler behind its queue', () => {
  it('handles every event of a batch and reports none when all succeed', async () => {
    const { handle, handled } = handler({});
    const inbox = inboxHandler(handle, { requeue: requeueInto([]), now: () => NOW });
    const response = await inbox({ Records: [record('a'), record('b'), record('c')] });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(handled).toEqual(['a', 'b', 'c']);
  });

  it('handles the events of a batch at once, or as many at once as it is told', async () => {
    for (const [concurrency, most] of [
      [undefined, 10],
      [3, 3],
      [1, 1],
    ] as const) {
      let inFlight = 0;
      let highest = 0;
      const handle = async () => {
        highest = Math.max(highest, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
      };
      const inbox = inboxHandler(handle, {
        requeue: requeueInto([]),
        now: () => NOW,
        ...(concurrency ? { concurrency } : {}),
      });
      const batch = Array.from({ length: 10 }, (_, i) => record(`e${i}`));
      expect(await inbox({ Records: batch })).toEqual({ batchItemFailures: [] });
      expect(highest).toBe(most);
    }
  });

  it('reports the failures in the order of the batch, whichever ended first', async () => {
    const handle = async (event: BusEvent) => {
      const id = String((event as { id: string }).id);
      // The first event takes longest, so it fails last.
      await new Promise((resolve) => setTimeout(resolve, id === 'a' ? 20 : 1));
      if (id !== 'b') throw new Error(`cannot handle ${id}`);
    };
    const inbox = inboxHandler(handle, { requeue: requeueInto([]), now: () => NOW });
    const response = await inbox({ Records: [record('a'), record('b'), record('c')] });
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'm-a' },
      { itemIdentifier: 'm-c' },
    ]);
  });

  it('reports only the events it failed on, and goes on with the others', async () => {
    const { handle, handled } = handler({ fail: ['b'] });
    const failed: string[] = [];
    const inbox = inboxHandler(handle, {
      requeue: requeueInto([]),
      now: () => NOW,
      observer: { failed: (r) => failed.push(r.messageId) },
    });
    const response = await inbox({ Records: [record('a'), record('b'), record('c')] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-b' }]);
    expect(handled).toEqual(['a', 'c']);
    expect(failed).toEqual(['m-b']);
  });

  it('reports a message that is not an EventBridge event, naming it, and keeps the others going', async () => {
    const { handle, handled } = handler({});
    const errors: string[] = [];
    const inbox = inboxHandler(handle, {
      requeue: requeueInto([]),
      now: () => NOW,
      observer: { failed: (_r, e) => errors.push((e as Error).message) },
    });
    const response = await inbox({
      Records: [
        { messageId: 'm-x', body: 'not json' },
        { messageId: 'm-y', body: '{"id":1}' },
        record('a'),
      ],
    });
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'm-x' },
      { itemIdentifier: 'm-y' },
    ]);
    expect(errors[0]).toMatch(/^message m-x: the body is not JSON/);
    expect(errors[1]).toBe('message m-y: the body is not an EventBridge event (no detail)');
    expect(handled).toEqual(['a']);
  });

  it('sends the held event and those after it back to the queue until the trial, and reports none of them', async () => {
    const { handle, handled } = handler({ holdFrom: 'b', retryInMs: 7_500 });
    const sent: OutgoingMessage[] = [];
    const held: number[] = [];
    const batch = [record('a'), record('b'), record('c'), record('d')];
    const inbox = inboxHandler(handle, {
      concurrency: 1,
      requeue: requeueInto(sent),
      now: () => NOW,
      observer: { held: (_h, requeued) => held.push(requeued) },
    });
    const response = await inbox({ Records: batch });
    // Sent back as new messages, so the hold costs none of the queue's receives.
    expect(response.batchItemFailures).toEqual([]);
    expect(handled).toEqual(['a']);
    expect(sent.map((m) => m.body)).toEqual(batch.slice(1).map((r) => r.body));
    expect(sent.every((m) => m.delaySeconds === 8)).toBe(true);
    expect(held).toEqual([3]);
  });

  it('of the events handled at once, sends back those held and those not begun, and no other', async () => {
    // Two lanes: a (slow) and b begin; b fails, its lane begins c, which is held; a ends
    // after the hold, so its lane begins nothing more, and d and e never begin.
    const handled: string[] = [];
    const begun: string[] = [];
    const handle = async (event: BusEvent) => {
      const id = String((event as { id: string }).id);
      begun.push(id);
      await new Promise((resolve) => setTimeout(resolve, id === 'a' ? 30 : 1));
      if (id === 'b') throw new Error('cannot handle b');
      if (id === 'c')
        throw new Error('write failed', {
          cause: new DependencyUnavailable(
            'match-event-handler/saga-work',
            NOW + 3_000,
            'HTTP 503',
          ),
        });
      handled.push(id);
    };
    const sent: OutgoingMessage[] = [];
    const held: number[] = [];
    const inbox = inboxHandler(handle, {
      concurrency: 2,
      requeue: requeueInto(sent),
      now: () => NOW,
      observer: { held: (_h, requeued) => held.push(requeued) },
    });
    const response = await inbox({
      Records: [record('a'), record('b'), record('c'), record('d'), record('e')],
    });
    expect(begun).toEqual(['a', 'b', 'c']);
    expect(handled).toEqual(['a']);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-b' }]);
    expect(sent.map((m) => JSON.parse(m.body).id)).toEqual(['c', 'd', 'e']);
    expect(sent.every((m) => m.delaySeconds === 3)).toBe(true);
    expect(held).toEqual([3]);
  });

  it('delays a held event by at least a second and at most the 15 minutes SQS allows', async () => {
    for (const [retryInMs, delay] of [
      [-5_000, 1],
      [3_600_000, 900],
    ] as const) {
      const { handle } = handler({ holdFrom: 'a', retryInMs });
      const sent: OutgoingMessage[] = [];
      await inboxHandler(handle, { requeue: requeueInto(sent), now: () => NOW })({
        Records: [record('a')],
      });
      expect(sent[0]?.delaySeconds).toBe(delay);
    }
  });

  it('reports a held event it could not send back, so SQS keeps it', async () => {
    const { handle } = handler({ holdFrom: 'a' });
    const sent: OutgoingMessage[] = [];
    const inbox = inboxHandler(handle, {
      requeue: requeueInto(sent, new Set(['b'])),
      now: () => NOW,
    });
    const response = await inbox({ Records: [record('a'), record('b'), record('c')] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-b' }]);
    expect(sent.map((m) => JSON.parse(m.body).id)).toEqual(['a', 'c']);
  });
});

describe('inboxRecordContext', () => {
  it("names the message and its event's id, type and stream, never its data", () => {
    // Prepare: an envelope as the router publishes it, and a body that is no event.
    const published = record('e1', {
      event_id: '0a0b0c0d-0000-4000-8000-000000000001',
      event_type: 'MatchRecorded',
      aggregate_id: 'match:2026-00001',
      sequence: 2,
      data: { home_team: 'PayloadMarker' },
    });
    const junk: InboxRecord = { messageId: 'm-junk', body: 'PayloadMarker{' };

    // Act
    const context = inboxRecordContext(published);

    // Assess
    expect(context).toEqual({
      messageId: 'm-e1',
      eventId: '0a0b0c0d-0000-4000-8000-000000000001',
      eventType: 'MatchRecorded',
      stream: 'match:2026-00001@2',
    });
    expect(JSON.stringify(context)).not.toContain('PayloadMarker');
    expect(inboxRecordContext(junk)).toEqual({ messageId: 'm-junk' });
  });
});
