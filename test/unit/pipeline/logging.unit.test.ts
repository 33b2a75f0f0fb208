import { describe, expect, it } from 'vitest';
import { logRequests } from '../../../cli/requestLog.js';
import { configureLogging, log } from '../../../pipeline/logging.js';

/** A pino destination that keeps the records. */
function records() {
  const lines: string[] = [];
  return {
    destination: { write: (line: string) => lines.push(line) },
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('the command log', () => {
  it('writes one JSON record per line at the level asked for, credentials redacted', () => {
    // Prepare
    const out = records();
    configureLogging({ level: 'info', format: 'json', destination: out.destination });

    // Act
    log().debug({ consumer: 'read-models' }, 'batch handled');
    log().info({ headers: { authorization: 'Bearer s3cret' }, token: 's3cret' }, 'careless');
    log().warn({ consumer: 'sagas', error: 'timed out' }, 'recovered from an error');

    // Assess
    expect(out.parsed()).toEqual([
      {
        level: 'info',
        time: expect.any(String),
        headers: { authorization: '[redacted]' },
        token: '[redacted]',
        msg: 'careless',
      },
      {
        level: 'warn',
        time: expect.any(String),
        consumer: 'sagas',
        error: 'timed out',
        msg: 'recovered from an error',
      },
    ]);
  });

  it('redacts a secret field however its name is written, at any depth, leaving the others', () => {
    // Prepare
    const out = records();
    configureLogging({ level: 'info', format: 'json', destination: out.destination });
    const config = { api_token: 's1', endpoint: 'http://localhost:4566' };

    // Act
    log().info(
      {
        apiToken: 's2',
        'api-token': 's3',
        session_token: 's4',
        AWS_SECRET_ACCESS_KEY: 's5',
        request: { headers: { 'x-api-key': 's6', Authorization: 's7', accept: '*/*' } },
        sources: [{ queue: 'q', client_secret: 's8' }],
        config,
        consumer: 'sagas',
      },
      'careless',
    );

    // Assess
    const [record] = out.parsed();
    expect(JSON.stringify(record)).not.toMatch(/"s\d"/);
    expect(record).toMatchObject({
      apiToken: '[redacted]',
      'api-token': '[redacted]',
      session_token: '[redacted]',
      AWS_SECRET_ACCESS_KEY: '[redacted]',
      request: {
        headers: { 'x-api-key': '[redacted]', Authorization: '[redacted]', accept: '*/*' },
      },
      sources: [{ queue: 'q', client_secret: '[redacted]' }],
      config: { api_token: '[redacted]', endpoint: 'http://localhost:4566' },
      consumer: 'sagas',
    });
    // The caller's object is left as it was.
    expect(config.api_token).toBe('s1');
  });
});

describe('logRequests', () => {
  it('logs method, path without the query, status and duration of each request, and nothing else', async () => {
    // Prepare
    const out = records();
    configureLogging({ level: 'info', format: 'json', destination: out.destination });
    let now = 0;
    const fetch = logRequests(
      async (request: Request) => {
        now += 12.34;
        return new Response('{}', { status: request.method === 'POST' ? 202 : 404 });
      },
      log(),
      () => now,
    );

    // Act
    await fetch(new Request('http://127.0.0.1/rankings?season=2026&token=abc'));
    await fetch(
      new Request('http://127.0.0.1/sagas', {
        method: 'POST',
        headers: { authorization: 'Bearer s3cret' },
        body: '{"season": "2026"}',
      }),
    );

    // Assess
    expect(out.parsed().map(({ time: _, ...rest }) => rest)).toEqual([
      {
        level: 'info',
        method: 'GET',
        path: '/rankings',
        status: 404,
        duration_ms: 12.3,
        msg: 'request',
      },
      {
        level: 'info',
        method: 'POST',
        path: '/sagas',
        status: 202,
        duration_ms: 12.3,
        msg: 'request',
      },
    ]);
  });

  it('logs a request the server failed on as an error with status 500, and lets it fail', async () => {
    const out = records();
    configureLogging({ level: 'info', format: 'json', destination: out.destination });
    const fetch = logRequests(async () => {
      throw new Error('store unavailable');
    }, log());

    await expect(fetch(new Request('http://127.0.0.1/health'))).rejects.toThrow(
      'store unavailable',
    );
    expect(out.parsed()).toMatchObject([
      { level: 'error', method: 'GET', path: '/health', status: 500, error: 'store unavailable' },
    ]);
  });
});
