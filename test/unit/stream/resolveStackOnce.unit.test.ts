import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import type { BuildMiddleware, InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Transport } from '../../../stream/aws/clientConfig.js';
import { kinesisClient } from '../../../stream/aws/kinesisClient.js';

/** kinesalite's answer to ListStreams, counting the requests. */
function server(): { transport: Transport; requests: () => number } {
  let requests = 0;
  return {
    transport: async () => {
      requests++;
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: '{"StreamNames":["s"],"HasMoreStreams":false}',
      };
    },
    requests: () => requests,
  };
}

/** How often the SDK resolved a ListStreams command's middleware stack. */
function resolutions() {
  return vi.spyOn(ListStreamsCommand.prototype, 'resolveMiddleware');
}

/** A middleware (of the step `M` is for) that notes its name on each call. */
function counting<M = InitializeMiddleware<object, MetadataBearer>>(
  seen: string[],
  name: string,
): M {
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
    seen.push(name);
    return next(args);
  };
  return middleware as M;
}

afterEach(() => vi.restoreAllMocks());

describe("a client of the process's own servers resolves its middleware stack once", () => {
  it('per command class, for calls without options', async () => {
    const { transport, requests } = server();
    const client = kinesisClient({ endpoint: 'http://127.0.0.1:1', unsigned: true, transport });
    const resolved = resolutions();
    for (let i = 0; i < 5; i++)
      expect((await client.send(new ListStreamsCommand({}))).StreamNames).toEqual(['s']);
    expect(requests()).toBe(5);
    expect(resolved).toHaveBeenCalledTimes(1);

    // A call with options resolves its own, and the next one without resolves again.
    await client.send(new ListStreamsCommand({}), { abortSignal: new AbortController().signal });
    await client.send(new ListStreamsCommand({}));
    await client.send(new ListStreamsCommand({}));
    expect(resolved).toHaveBeenCalledTimes(3);
  });

  it('and sees every change made to the stack after a call', async () => {
    const { transport } = server();
    const client = kinesisClient({ endpoint: 'http://127.0.0.1:1', unsigned: true, transport });
    await client.send(new ListStreamsCommand({}));
    const seen: string[] = [];

    client.middlewareStack.add(counting(seen, 'added'), { step: 'initialize', name: 'added' });
    await client.send(new ListStreamsCommand({}));
    expect(seen).toEqual(['added']);

    client.middlewareStack.addRelativeTo(counting(seen, 'relative'), {
      relation: 'before',
      toMiddleware: 'serializerMiddleware',
      name: 'relative',
    });
    await client.send(new ListStreamsCommand({}));
    expect(seen).toEqual(['added', 'added', 'relative']);

    client.middlewareStack.use({
      applyToStack: (stack) =>
        stack.add(counting<BuildMiddleware<object, MetadataBearer>>(seen, 'plugin'), {
          step: 'build',
          name: 'plugin',
        }),
    });
    await client.send(new ListStreamsCommand({}));
    expect(seen.slice(3)).toEqual(['added', 'relative', 'plugin']);

    client.middlewareStack.remove('added');
    client.middlewareStack.remove('plugin');
    await client.send(new ListStreamsCommand({}));
    expect(seen.slice(6)).toEqual(['relative']);

    client.middlewareStack.add(counting(seen, 'tagged'), {
      step: 'initialize',
      name: 'tagged',
      tags: ['fault'],
    });
    client.middlewareStack.removeByTag('fault');
    await client.send(new ListStreamsCommand({}));
    expect(seen.slice(7)).toEqual(['relative']);
  });

  it('and only such a client: one for AWS resolves it on every call', async () => {
    const { transport } = server();
    const own = kinesisClient({ endpoint: 'http://127.0.0.1:1', unsigned: true, transport });
    const signed = kinesisClient({ endpoint: 'http://127.0.0.1:1', transport });
    expect(own.config.cacheMiddleware).toBe(true);
    expect(signed.config.cacheMiddleware).not.toBe(true);
    const resolved = resolutions();
    for (let i = 0; i < 3; i++) await signed.send(new ListStreamsCommand({}));
    expect(resolved).toHaveBeenCalledTimes(3);
  });
});
