import { createHash } from 'node:crypto';
import { cpSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it, vi } from 'vitest';
import { checkSchemas } from '../../../schemas/checkSchemas.js';
import { SchemaError } from '../../../schemas/SchemaError.js';
import { defaultSchemasDir, SchemaRegistry } from '../../../schemas/SchemaRegistry.js';
import type { SchemaUpcaster } from '../../../schemas/upcasters/index.js';
import { matchRecorded, registry } from '../../support/registry.js';
import { schemaFolders } from '../../support/schemaFolders.js';

const folder = schemaFolders();

function record(name: string, fields: unknown[]): unknown {
  return { type: 'record', name, namespace: 'test', fields };
}

const context = { eventId: 'e-1', aggregateId: 'x:1', timestamp: '2026-09-01T10:00:00.000Z' };

function rejection(fn: () => unknown): SchemaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SchemaError) return error;
    throw error;
  }
  throw new Error('expected a SchemaError');
}

describe('SchemaRegistry', () => {
  it('identifies each schema by the SHA-256 of its Parsing Canonical Form', () => {
    const schema = registry.get('MatchRecorded', 2);

    expect(schema.fingerprint).toBe(createHash('sha256').update(schema.canonical).digest('hex'));
    // The canonical form keeps names, types and fields only: no doc, default or logical type.
    expect(schema.canonical).not.toMatch(/doc|default|logicalType|namespace/);
    expect(
      schema.canonical.startsWith('{"name":"matchstream.events.MatchRecorded","type":"record"'),
    ).toBe(true);
    expect(registry.find(schema.fingerprint)).toBe(schema);
  });

  it('encodes with the latest version and refuses invalid data naming the fields, not the values', () => {
    const encoded = registry.encode('MatchRecorded', matchRecorded('m1'));
    expect(encoded.version).toBe(registry.latest('MatchRecorded').version);

    const error = rejection(() =>
      registry.encode('MatchRecorded', {
        ...matchRecorded('m1'),
        home_goals: 'SECRET',
        played_on: '2026-02-30',
      }),
    );
    expect(error.code).toBe('INVALID_DATA');
    expect(error.message).toMatch(/played_on, home_goals|home_goals, played_on/);
    expect(error.message).not.toContain('SECRET');
  });

  it('says which event and fingerprint it cannot decode, and why', () => {
    const good = registry.encode('TeamRegistered', {
      team_id: 'A',
      name: 'A',
      conference: null,
      division: null,
    });
    const decode = (overrides: Partial<Parameters<typeof registry.decode>[0]>) => () =>
      registry.decode({
        eventType: 'TeamRegistered',
        fingerprint: good.fingerprint,
        bytes: good.bytes,
        ...context,
        ...overrides,
      });

    const unknown = rejection(decode({ fingerprint: 'ab'.repeat(32) }));
    expect(unknown.code).toBe('UNKNOWN_FINGERPRINT');
    expect(unknown.message).toBe(
      `no registered schema has this fingerprint (event e-1, type TeamRegistered, fingerprint ${'ab'.repeat(8)})`,
    );
    expect(rejection(decode({ bytes: good.bytes.subarray(0, 3) })).code).toBe('CORRUPT_DATA');
    expect(rejection(decode({ bytes: Buffer.concat([good.bytes, Buffer.from([1])]) })).code).toBe(
      'CORRUPT_DATA',
    );
    const mismatch = rejection(decode({ eventType: 'MatchCancelled' }));
    expect(mismatch.code).toBe('FINGERPRINT_MISMATCH');
    expect(mismatch.message).toContain('belongs to TeamRegistered v2, not to MatchCancelled');
  });

  it('reports a v1 score it cannot upcast', () => {
    const v1 = registry.encode(
      'MatchRecorded',
      { match_id: 'm', home_team: 'A', away_team: 'B', score: 'abandoned' },
      1,
    );

    const error = rejection(() =>
      registry.decode({
        eventType: 'MatchRecorded',
        fingerprint: v1.fingerprint,
        bytes: v1.bytes,
        ...context,
      }),
    );

    expect(error.code).toBe('UPCAST_FAILED');
    expect(error.message).toMatch(
      /cannot upcast MatchRecorded v1 to v2: score is not two whole numbers/,
    );
  });

  it('builds each resolver once per writer schema', () => {
    const own = SchemaRegistry.fromDirectory();
    const v1 = own.encode(
      'MatchRecorded',
      { match_id: 'm', home_team: 'A', away_team: 'B', score: '1-0' },
      1,
    );
    const spy = vi.spyOn(avro.Type.prototype, 'createResolver');
    const decode = () =>
      own.decode({
        eventType: 'MatchRecorded',
        fingerprint: v1.fingerprint,
        bytes: v1.bytes,
        ...context,
      });

    decode();
    const built = spy.mock.calls.length;
    for (let i = 0; i < 50; i++) decode();

    expect(built).toBeGreaterThan(0);
    expect(spy).toHaveBeenCalledTimes(built);
    spy.mockRestore();
  });

  it('chains resolution, upcasters and resolution again to the latest version', () => {
    // v1 → v2 changes meaning (upcaster); v3 adds a field with a default (resolution).
    const dir = folder({
      'Thing/v1.avsc': record('Thing', [{ name: 'size', type: 'string' }]),
      'Thing/v2.avsc': record('Thing', [{ name: 'size_cm', type: 'int' }]),
      'Thing/v3.avsc': record('Thing', [
        { name: 'size_cm', type: 'long' },
        { name: 'colour', type: 'string', default: 'grey' },
      ]),
    });
    const upcaster: SchemaUpcaster = {
      eventType: 'Thing',
      fromVersion: 1,
      upcast: (data) => ({ size_cm: Number.parseInt(String((data as { size: string }).size), 10) }),
    };
    const things = SchemaRegistry.fromDirectory(dir, [upcaster]);
    const decode = (version: number, data: unknown) => {
      const e = things.encode('Thing', data, version);
      return things.decode({
        eventType: 'Thing',
        fingerprint: e.fingerprint,
        bytes: e.bytes,
        ...context,
      });
    };

    expect(decode(1, { size: '42cm' })).toEqual({
      version: 3,
      writerVersion: 1,
      data: { size_cm: 42, colour: 'grey' },
    });
    expect(decode(2, { size_cm: 7 })).toEqual({
      version: 3,
      writerVersion: 2,
      data: { size_cm: 7, colour: 'grey' },
    });
    expect(decode(3, { size_cm: 7, colour: 'red' }).data).toEqual({ size_cm: 7, colour: 'red' });
    expect(checkSchemas(things)).toEqual([]);
  });

  it('reports a break without an upcaster, in check and on decode', () => {
    const dir = folder({
      'Thing/v1.avsc': record('Thing', [{ name: 'size', type: 'string' }]),
      'Thing/v2.avsc': record('Thing', [{ name: 'size_cm', type: 'int' }]),
    });
    const things = SchemaRegistry.fromDirectory(dir, []);
    const v1 = things.encode('Thing', { size: '1' }, 1);

    expect(checkSchemas(things).map((v) => v.message)).toEqual([
      'Thing v2 cannot read v1 (BACKWARD_ALL): Thing.size_cm: field "size_cm" (int) is missing from v1 and has no default',
    ]);
    const error = rejection(() =>
      things.decode({
        eventType: 'Thing',
        fingerprint: v1.fingerprint,
        bytes: v1.bytes,
        ...context,
      }),
    );
    expect(error.code).toBe('MISSING_UPCASTER');
    expect(error.message).toContain(
      'Thing v2 cannot read v1 by schema resolution and no upcaster bridges them',
    );
  });

  it('checks each type against the mode declared for it', () => {
    const files = {
      'Thing/v1.avsc': record('Thing', [{ name: 'a', type: 'string' }]),
      'Thing/v2.avsc': record('Thing', [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string', default: '' },
      ]),
    };
    const backward = SchemaRegistry.fromDirectory(folder(files), []);
    const forwardAll = SchemaRegistry.fromDirectory(
      folder({
        ...files,
        'compatibility.json': { default: 'NONE', overrides: { Thing: 'FULL_ALL' } },
      }),
      [],
    );

    expect(backward.mode('Thing')).toBe('BACKWARD_ALL');
    expect(checkSchemas(backward)).toEqual([]);
    expect(forwardAll.mode('Thing')).toBe('FULL_ALL');
    expect(checkSchemas(forwardAll)).toEqual([]);
    expect(forwardAll.mode('Other')).toBe('NONE');
  });

  it.each([
    [{ 'Thing/v1.avsc': '{ not json' }, /not a valid Avro schema/],
    [
      { 'Thing/v1.avsc': record('Other', [{ name: 'a', type: 'int' }]) },
      /must be a record named Thing/,
    ],
    [
      { 'Thing/v1.avsc': record('Thing', [{ name: 'a', type: 'nope' }]) },
      /not a valid Avro schema/,
    ],
    [{ 'Thing/v2.avsc': record('Thing', [{ name: 'a', type: 'int' }]) }, /Thing has v2 but no v1/],
    [
      { 'Thing/one.avsc': record('Thing', [{ name: 'a', type: 'int' }]) },
      /schema files are named v<N>\.avsc/,
    ],
    [
      {
        'Thing/v1.avsc': record('Thing', [{ name: 'a', type: 'int' }]),
        'Thing/v2.avsc': record('Thing', [{ name: 'a', type: 'int', doc: 'only the doc changed' }]),
      },
      /Thing v2 has the same canonical form as Thing v1/,
    ],
    [
      {
        'Thing/v1.avsc': record('Thing', [{ name: 'a', type: 'int' }]),
        'compatibility.json': { default: 'SIDEWAYS' },
      },
      /default mode: "SIDEWAYS" is not one of NONE, BACKWARD/,
    ],
  ])('refuses a broken schema folder: %o', (files, message) => {
    const dir = folder(files);
    const error = rejection(() => SchemaRegistry.fromDirectory(dir, []));
    expect(error.code).toBe('SCHEMA_INVALID');
    expect(error.message).toMatch(message);
  });

  it('refuses an upcaster for a version that does not exist', () => {
    const dir = folder({ 'Thing/v1.avsc': record('Thing', [{ name: 'a', type: 'int' }]) });
    const upcaster: SchemaUpcaster = { eventType: 'Thing', fromVersion: 1, upcast: (d) => d };
    expect(() => SchemaRegistry.fromDirectory(dir, [upcaster])).toThrow(
      /upcaster Thing v1 → v2: there is no such version/,
    );
  });

  it('finds the project schemas and passes its own check', () => {
    const dir = folder({});
    cpSync(defaultSchemasDir(), dir, { recursive: true });
    expect(checkSchemas(SchemaRegistry.fromDirectory(dir))).toEqual([]);
    expect(registry.eventTypes()).toContain('RankingsCacheUpdated');
  });
});
