import type { HttpRequest } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import {
  TransportHandler,
  type TransportRequest,
  type TransportResponse,
} from '../../../stream/aws/clientConfig.js';

const request = (over: Partial<HttpRequest> = {}): HttpRequest => ({
  method: 'POST',
  protocol: 'http:',
  hostname: '127.0.0.1',
  port: 4567,
  path: '/',
  query: {},
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'X.GetItem' },
  body: '{"TableName":"t"}',
  ...over,
});

describe('TransportHandler', () => {
  it('hands over the method, path with its query, headers and body, and gives back the answer', async () => {
    const seen: TransportRequest[] = [];
    const handler = new TransportHandler(async (r): Promise<TransportResponse> => {
      seen.push(r);
      return { status: 400, headers: { 'x-amzn-requestid': 'r1' }, body: '{"__type":"x"}' };
    });

    const { response } = await handler.handle(
      request({ path: '/a b', query: { q: ['1', '2'], s: 'x' } }),
    );

    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/a b?q=1&q=2&s=x',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'X.GetItem' },
        body: '{"TableName":"t"}',
      },
    ]);
    expect(response.statusCode).toBe(400);
    expect(response.headers).toEqual({ 'x-amzn-requestid': 'r1' });
    expect(Buffer.from(response.body as Uint8Array).toString()).toBe('{"__type":"x"}');
  });

  it('passes bytes through as bytes, both ways', async () => {
    const handler = new TransportHandler(async (r) => ({
      status: 200,
      headers: {},
      body: new Uint8Array([...(r.body as Uint8Array)].reverse()),
    }));
    const { response } = await handler.handle(request({ body: new Uint8Array([1, 2, 3]) }));
    expect([...(response.body as Uint8Array)]).toEqual([3, 2, 1]);
  });

  it('fails an attempt with no answer in time as a TimeoutError, which the SDK retries', async () => {
    const handler = new TransportHandler(() => new Promise(() => {}), 20);
    await expect(handler.handle(request())).rejects.toMatchObject({ name: 'TimeoutError' });
    // The SDK's own per-request timeout wins over the handler's.
    const started = Date.now();
    await expect(
      new TransportHandler(() => new Promise(() => {}), 60_000).handle(request(), {
        requestTimeout: 20,
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops waiting when the call is aborted, before or during the request', async () => {
    const handler = new TransportHandler(() => new Promise(() => {}));
    const before = new AbortController();
    before.abort();
    await expect(handler.handle(request(), { abortSignal: before.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    const during = new AbortController();
    const pending = handler.handle(request(), { abortSignal: during.signal });
    during.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses a body it cannot hand over, naming its type', async () => {
    const handler = new TransportHandler(async () => ({ status: 200, headers: {}, body: '' }));
    await expect(handler.handle(request({ body: { pipe() {} } }))).rejects.toThrow(
      'a request body of object cannot be handed to a server thread',
    );
  });
});
