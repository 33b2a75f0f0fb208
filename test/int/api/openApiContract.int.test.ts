import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../../api/createApi.js';
import { OPENAPI } from '../../../api/openapi.js';
import { QueryService } from '../../../api/QueryService.js';
import { generateSeason } from '../../../domain/season/generateSeason.js';
import { ingestGames } from '../../../ingest/ingestGames.js';
import { pipelineDeadLetters } from '../../../pipeline/deadLetterDesk.js';
import { type EmbeddedPipeline, startPipeline } from '../../../pipeline/embeddedPipeline.js';
import { feedRows } from '../../support/games.js';
import { tempDir } from '../../support/tempDir.js';

// ajv and ajv-formats are CommonJS: their default export is the module object.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

type Doc = typeof OPENAPI;
type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op: op as unknown as Operation })),
  );

/** JSON pointer escaping of one path segment. */
const segment = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** Validators of the document's answers, by documented path, method and status. */
function contractOf(doc: Doc) {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  // OpenAPI's own keywords, and the document's fields around its schemas: annotations here.
  ajv.addVocabulary(['discriminator', 'example', 'openapi', 'info', 'servers', 'tags', 'paths']);
  ajv.addVocabulary(['components', 'webhooks']);
  ajv.addSchema(doc, 'openapi.json');
  return (path: string, method: string, status: number) => {
    const pointer = [
      'paths',
      path,
      method,
      'responses',
      String(status),
      'content',
      'application/json',
      'schema',
    ]
      .map(segment)
      .join('/');
    return (
      ajv.getSchema(`openapi.json#/${pointer}`) ?? ajv.compile({ $ref: `openapi.json#/${pointer}` })
    );
  };
}

describe('the OpenAPI document', () => {
  // Made here, not in the test: the folder is removed after the file's tests (`afterAll`).
  const tmp = tempDir('matchstream-openapi-');

  it("passes Redocly's recommended rules with no error and no warning", () => {
    const file = tmp.file('openapi.json', JSON.stringify(OPENAPI, null, 2));
    const cli = join(
      dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
      'bin/cli.js',
    );

    const run = spawnSync(
      process.execPath,
      [cli, 'lint', '--config', 'redocly.yaml', '--format', 'json', file],
      {
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );

    const report = JSON.parse(run.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(run.status).toBe(0);
  });

  it('describes the two ways a write is authorized: bearer locally, IAM (SigV4) behind API Gateway', () => {
    const schemes = (OPENAPI.components as Record<string, Record<string, unknown>>).securitySchemes;
    const post = operations(OPENAPI).find((o) => o.method === 'post' && o.path === '/sagas');

    expect(schemes).toEqual({
      bearerToken: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      // API Gateway's extension for IAM authorization: an apiKey scheme on the Authorization
      // header with the reserved auth type awsSigv4.
      sigv4: expect.objectContaining({
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      }),
    });
    // Either one, not both together.
    expect(post?.op.security).toEqual([{ bearerToken: [] }, { sigv4: [] }]);
    expect(Object.keys(post?.op.responses ?? {})).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '413', '500', '501']),
    );
    for (const read of operations(OPENAPI).filter((o) => o.method === 'get'))
      expect(read.op.security, `${read.path} is open`).toEqual([]);
  });

  it('documents every route the API serves, each with an id, a tag, its errors and 500', () => {
    const app = createApi(
      new QueryService({} as never, async () => ({ consumers: [], dead_letters: 0, breakers: [] })),
      {
        token: 't',
      },
    );
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = operations(OPENAPI);

    expect(new Set(served)).toEqual(new Set(documented.map((o) => `${o.method} ${o.path}`)));
    const ids = documented.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(documented.length);
    for (const { path, op } of documented) {
      expect(op.operationId, path).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags?.length, path).toBe(1);
      expect(Object.keys(op.responses), path).toEqual(
        expect.arrayContaining(['400', '429', '500']),
      );
    }
  });

  it('names the fields of every object it describes (no bare object) and allows no others', () => {
    const bare: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (typeof node !== 'object' || node === null) return;
      if (Array.isArray(node)) {
        node.forEach((n, i) => {
          walk(n, `${at}/${i}`);
        });
        return;
      }
      const schema = node as Record<string, unknown>;
      if (schema.type === 'object') {
        const named =
          typeof schema.properties === 'object' && Object.keys(schema.properties ?? {}).length > 0;
        const keyed = typeof schema.additionalProperties === 'object';
        if (!named && !keyed) bare.push(at);
        if (named && schema.additionalProperties !== false) bare.push(`${at} (open)`);
      }
      // A closed object inside allOf refuses the other members' fields: nothing satisfies it.
      if (JSON.stringify(schema.allOf ?? []).includes('"additionalProperties":false'))
        bare.push(`${at} (closed allOf)`);
      for (const [key, value] of Object.entries(schema)) walk(value, `${at}/${key}`);
    };
    const { OpenApiDocument: _, ...schemas } = (
      OPENAPI.components as { schemas: Record<string, unknown> }
    ).schemas;

    walk(schemas, '#/components/schemas');
    walk(OPENAPI.paths, '#/paths');

    expect(bare).toEqual([]);
  });
});

describe("the API's live answers, against the document", () => {
  const TOKEN = 'a-test-token-of-this-server';
  const WRITER = { authorization: `Bearer ${TOKEN}` };
  const season = generateSeason({ teams: 20, gamesPerTeam: 6, seed: 11 });
  const team = encodeURIComponent(season.teams[0]?.team ?? '');
  let pipeline: EmbeddedPipeline;
  let served: Doc;
  let validatorOf: ReturnType<typeof contractOf>;
  const seen = new Set<string>();

  beforeAll(async () => {
    pipeline = await startPipeline({ memory: true, debounceMs: 200 });
    await ingestGames(feedRows(season.games), { store: pipeline.runtime.store });
    await pipeline.runtime.settle();
    if (!(await pipeline.sagas.requests.latest('2026')))
      throw new Error('no recalculation was requested');
    await pipeline.sagas.settle(30_000);
    await pipeline.runtime.settle();
    await pipeline.sagas.settle(30_000);
    // The document as the API serves it is the one the answers are checked against.
    served = (await (
      await createApi(pipeline.queries, { token: TOKEN }).request('/openapi.json')
    ).json()) as Doc;
    validatorOf = contractOf(served);
  }, 90_000);

  afterAll(async () => {
    await pipeline?.stop();
  });

  /** Asks the API and checks the answer against the document's schema for its status. */
  async function check(
    app: ReturnType<typeof createApi>,
    method: 'get' | 'post',
    url: string,
    documented: string,
    status: number,
    init: RequestInit = {},
  ) {
    const response = await app.request(url, { ...init, method: method.toUpperCase() });
    const body = (await response.json()) as unknown;
    const validate = validatorOf(documented, method, response.status);

    expect(response.status, JSON.stringify(body).slice(0, 300)).toBe(status);
    expect(validate(body) ? [] : validate.errors, `${method} ${url}`).toEqual([]);
    seen.add(`${method} ${documented} ${status}`);
    return { response, body };
  }

  const api = () => createApi(pipeline.queries, { token: TOKEN });

  it.each([
    ['/rankings?season=2026', '/rankings', 200],
    ['/rankings?season=2026&as_of=2026-12-31', '/rankings', 200],
    ['/rankings', '/rankings', 400],
    ['/rankings?season=2026&bogus=1', '/rankings', 400],
    ['/rankings?season=1999', '/rankings', 404],
    ['/seasons', '/seasons', 200],
    ['/seasons?season=2026', '/seasons', 400],
    [`/teams/${team}/weekly?season=2026`, '/teams/{id}/weekly', 200],
    [`/teams/${team}/weekly?season=2026&profile=ncaa-soccer-2023`, '/teams/{id}/weekly', 200],
    [`/teams/${team}/weekly`, '/teams/{id}/weekly', 400],
    [`/teams/${team}/weekly?season=2026&profile=nope`, '/teams/{id}/weekly', 400],
    ['/teams/Nobody/weekly?season=2026', '/teams/{id}/weekly', 404],
    ['/standings?season=2026', '/standings', 200],
    ['/standings?season=2026&as_of=2026-09-15', '/standings', 200],
    ['/standings?season=2026&as_of=2026-02-30', '/standings', 400],
    ['/standings?season=2026&as_of=2020-01-01', '/standings', 200],
    ['/standings?season=1999', '/standings', 404],
    ['/teams', '/teams', 200],
    ['/teams?season=2026', '/teams', 400],
    [`/teams/${team}`, '/teams/{id}', 200],
    [`/teams/${team}?season=2026`, '/teams/{id}', 200],
    [`/teams/${'x'.repeat(201)}`, '/teams/{id}', 400],
    ['/teams/Nobody', '/teams/{id}', 404],
    [`/teams/${team}/matches`, '/teams/{id}/matches', 200],
    [`/teams/${team}/matches?season=2026`, '/teams/{id}/matches', 200],
    [`/teams/${team}/matches?season=bad%20season`, '/teams/{id}/matches', 400],
    ['/teams/Nobody/matches', '/teams/{id}/matches', 404],
    ['/sagas', '/sagas', 200],
    ['/sagas?limit=5', '/sagas', 200],
    ['/sagas?limit=0', '/sagas', 400],
    ['/sagas/none/timeline', '/sagas/{id}/timeline', 404],
    ['/sagas/none/timeline?x=1', '/sagas/{id}/timeline', 400],
    ['/store', '/store', 200],
    ['/store?x=1', '/store', 400],
    ['/consumers', '/consumers', 200],
    ['/consumers?x=1', '/consumers', 400],
    ['/dead-letters', '/dead-letters', 501],
    ['/dead-letters?x=1', '/dead-letters', 400],
    ['/notifications?season=2026', '/notifications', 200],
    ['/notifications', '/notifications', 400],
    ['/notifications?season=1999', '/notifications', 404],
    ['/sagas/none', '/sagas/{id}', 404],
    ['/sagas/none?x=1', '/sagas/{id}', 400],
    ['/health', '/health', 200],
    ['/health?verbose=1', '/health', 400],
    ['/openapi.json', '/openapi.json', 200],
    ['/openapi.json?format=yaml', '/openapi.json', 400],
  ])('GET %s answers as documented for %s (%i)', async (url, documented, status) => {
    await check(api(), 'get', url, documented, status);
  });

  it.each([
    ['a season', { season: '2026' }, WRITER, 202],
    ['a scope', { season: '2026', as_of: '2026-10-01', profile: 'ncaa-soccer-2023' }, WRITER, 202],
    ['a division', { season: '2026', division: 'Nowhere' }, WRITER, 202],
    ['an unknown field', { season: '2026', asof: '2026-10-01' }, WRITER, 400],
    ['a number', { season: 2026 }, WRITER, 400],
    ['no token', { season: '2026' }, {}, 401],
    ['a wrong token', { season: '2026' }, { authorization: 'Bearer guessed' }, 403],
    ['5000 bytes', { season: 'x'.repeat(5000) }, WRITER, 413],
  ])(
    'POST /sagas with %s answers as documented, and the saga it starts too',
    async (_, body, headers, status) => {
      const { response, body: answer } = await check(api(), 'post', '/sagas', '/sagas', status, {
        body: JSON.stringify(body),
        headers,
      });
      if (status !== 202) return;
      const { saga_id: sagaId } = answer as { saga_id: string };
      expect(response.headers.get('location')).toBe(`/sagas/${sagaId}`);
      await pipeline.sagas.waitFor(sagaId);
      await pipeline.runtime.settle();

      await check(api(), 'get', `/sagas/${sagaId}`, '/sagas/{id}', 200);
    },
  );

  it('answers 501 where the deployment offers no sagas and no notifications, as documented', async () => {
    const bare = createApi(
      new QueryService(pipeline.stores, async () => ({
        consumers: [],
        dead_letters: 0,
        breakers: [],
      })),
      { token: TOKEN },
    );

    await check(bare, 'post', '/sagas', '/sagas', 501, {
      body: '{"season": "2026"}',
      headers: WRITER,
    });
    await check(bare, 'get', '/notifications?season=2026', '/notifications', 501);
    await check(bare, 'get', '/live', '/live', 501);
    await check(bare, 'get', '/live?season=2026', '/live', 400);
  });

  it("shows a saga's timeline, and offers dead letters and their redrive where the deployment has them, as documented", async () => {
    const desk = () =>
      createApi(pipeline.queries.with({ deadLetters: pipelineDeadLetters(pipeline) }), {
        token: TOKEN,
      });
    const bare = createApi(
      new QueryService(pipeline.stores, async () => ({
        consumers: [],
        dead_letters: 0,
        breakers: [],
      })),
      { token: TOKEN },
    );
    const { body } = await check(api(), 'get', '/sagas?limit=1', '/sagas', 200);
    const [saga] = (body as { sagas: { saga_id: string }[] }).sagas;

    await check(api(), 'get', `/sagas/${saga?.saga_id}/timeline`, '/sagas/{id}/timeline', 200);
    await check(bare, 'get', `/sagas/${saga?.saga_id}/timeline`, '/sagas/{id}/timeline', 501);
    await check(desk(), 'get', '/dead-letters', '/dead-letters', 200);
    const redrive = (init: RequestInit, status: number, app = desk()) =>
      check(app, 'post', '/dead-letters/redrive', '/dead-letters/redrive', status, init);
    await redrive({ body: '{"all": true}', headers: WRITER }, 200);
    await redrive({ body: '{"ids": ["0123456789ab"]}', headers: WRITER }, 404);
    await redrive({ body: '{"ids": "all"}', headers: WRITER }, 400);
    await redrive({ body: '{"ids": []}', headers: WRITER }, 400);
    await redrive({ body: '{}', headers: WRITER }, 400);
    await redrive({ body: '{"ids": ["0123456789ab"], "all": true}', headers: WRITER }, 400);
    await redrive({ body: 'ids', headers: WRITER }, 400);
    await redrive({ body: JSON.stringify({ ids: ['x'.repeat(300_000)] }), headers: WRITER }, 413);
    await redrive({ body: '{"all": true}' }, 401);
    await redrive({ body: '{"all": true}', headers: { authorization: 'Bearer guessed' } }, 403);
    await redrive({ body: '{"all": true}', headers: WRITER }, 501, api());
  });

  it('opens the live stream as documented: server-sent events, first `ready`', async () => {
    const response = await api().request('/live');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(first).toMatch(/^event: ready\n/);
    seen.add('get /live 200');
  });

  it('answers 500 without details when a figure cannot be read, as documented', async () => {
    const failing = createApi(
      new QueryService(pipeline.stores, async () => {
        throw new Error('the runtime is gone');
      }),
      { token: TOKEN },
    );

    const { body } = await check(failing, 'get', '/health', '/health', 500);
    expect(body).toEqual({ error: { status: 500, message: 'internal error' } });
  });

  it('refuses an answer carrying a field the document does not name', async () => {
    const answers = await Promise.all(
      ['/rankings?season=2026', '/teams', `/teams/${team}?season=2026`, '/health'].map(
        async (url) => (await api().request(url)).json(),
      ),
    );
    const paths = ['/rankings', '/teams', '/teams/{id}', '/health'];

    answers.forEach((answer, i) => {
      const validate = validatorOf(paths[i] ?? '', 'get', 200);
      expect(validate(answer), paths[i]).toBe(true);
      expect(validate({ ...(answer as object), added_later: 1 }), paths[i]).toBe(false);
    });
  });

  it('has checked every status of every route the API itself answers', () => {
    // 429, and the 403 of an unsigned write, come from API Gateway on AWS, never from the app.
    const expected = operations(served).flatMap(({ path, method, op }) =>
      Object.keys(op.responses)
        .filter((s) => s !== '429' && !(s === '500' && path !== '/health'))
        .map((s) => `${method} ${path} ${s}`),
    );

    expect([...seen].sort()).toEqual(expect.arrayContaining(expected.sort()));
  });
});
