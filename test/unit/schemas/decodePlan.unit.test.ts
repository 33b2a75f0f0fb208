import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { describe, expect, it, vi } from 'vitest';
import { LOGICAL_TYPES } from '../../../schemas/logicalTypes.js';
import { SchemaError } from '../../../schemas/SchemaError.js';
import { converter, SchemaRegistry } from '../../../schemas/SchemaRegistry.js';
import type { SchemaUpcaster } from '../../../schemas/upcasters/index.js';
import { registry } from '../../support/registry.js';
import { schemaFolders } from '../../support/schemaFolders.js';

const folder = schemaFolders();

function record(name: string, fields: unknown[]): unknown {
  return { type: 'record', name, namespace: 'test', fields };
}

const context = { eventId: 'e-1', aggregateId: 'x:1', timestamp: '2026-09-01T10:00:00.000Z' };

/** The stored bytes of a version's fixture. */
function fixtureBytes(eventType: string, version: number): Buffer {
  const file = join('test/fixtures/events', eventType, `v${version}.json`);
  const fixture = JSON.parse(readFileSync(file, 'utf8')) as { avro_base64: string };
  return Buffer.from(fixture.avro_base64, 'base64');
}

function rejection(fn: () => unknown): SchemaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SchemaError) return error;
    throw error;
  }
  throw new Error('expected a SchemaError');
}

const pairs = registry.eventTypes().flatMap((t) =>
  registry.versions(t).flatMap((w) =>
    registry
      .versions(t)
      .filter((r) => r.version > w.version)
      .map((r) => [t, w.version, r.version] as const),
  ),
);

describe('decoding by a plan built once per writer schema', () => {
  it.each(pairs)(
    '%s v%i reaches v%i in memory exactly as Avro resolution reads its bytes, or not at all',
    (eventType, from, to) => {
      const writer = registry.get(eventType, from).type;
      const reader = registry.get(eventType, to).type;
      const convert = converter(writer, reader);
      let resolver: avro.Resolver;
      try {
        resolver = reader.createResolver(writer);
      } catch {
        // An upcaster bridges these: there is nothing to resolve, in memory or not.
        expect(convert).toBeUndefined();
        return;
      }
      const bytes = fixtureBytes(eventType, from);
      if (convert) {
        expect(convert(writer.fromBuffer(bytes))).toStrictEqual(reader.fromBuffer(bytes, resolver));
      }
    },
  );

  it('converts in memory where the catalog only adds fields with defaults', () => {
    const v2 = registry.get('MatchRecorded', 2).type;
    const v3 = registry.get('MatchRecorded', 3).type;
    const convert = converter(v2, v3);

    expect(convert).toBeDefined();
    const data = v2.fromBuffer(fixtureBytes('MatchRecorded', 2));
    expect(convert?.(data)).toStrictEqual(
      v3.fromBuffer(fixtureBytes('MatchRecorded', 2), v3.createResolver(v2)),
    );
    expect(convert?.(data)).toMatchObject({ venue: null });
  });

  it('leaves to Avro resolution what it cannot copy: promotions, nested changes, defaults to clone, no default, two sources', () => {
    const type = (fields: unknown[]) =>
      avro.Type.forSchema({ type: 'record', name: 'T', fields } as avro.Schema);
    const base = type([{ name: 'a', type: 'int' }]);

    expect(converter(base, type([{ name: 'a', type: 'long' }]))).toBeUndefined();
    expect(
      converter(
        type([
          { name: 'a', type: { type: 'record', name: 'N', fields: [{ name: 'x', type: 'int' }] } },
        ]),
        type([
          {
            name: 'a',
            type: {
              type: 'record',
              name: 'N',
              fields: [
                { name: 'x', type: 'int' },
                { name: 'y', type: 'int', default: 0 },
              ],
            },
          },
        ]),
      ),
    ).toBeUndefined();
    expect(
      converter(
        base,
        type([
          { name: 'a', type: 'int' },
          { name: 'b', type: { type: 'array', items: 'int' }, default: [] },
        ]),
      ),
    ).toBeUndefined();
    expect(converter(base, type([{ name: 'b', type: 'int' }]))).toBeUndefined();
    // The same Avro type read as a logical one: resolution turns the day count into a day.
    const day = avro.Type.forSchema(
      {
        type: 'record',
        name: 'T',
        fields: [{ name: 'a', type: { type: 'int', logicalType: 'date' } }],
      },
      { logicalTypes: LOGICAL_TYPES },
    );
    expect(converter(base, day)).toBeUndefined();
    expect(
      converter(
        type([
          { name: 'a', type: 'int' },
          { name: 'b', type: 'int' },
        ]),
        type([{ name: 'a', type: 'int', aliases: ['b'] }]),
      ),
    ).toBeUndefined();
    expect(converter(avro.Type.forSchema('int'), avro.Type.forSchema('long'))).toBeUndefined();
  });

  it('follows a renamed field by its alias and fills new fields with their defaults', () => {
    const writer = avro.Type.forSchema({
      type: 'record',
      name: 'T',
      fields: [
        { name: 'old', type: 'string' },
        { name: 'gone', type: 'int' },
      ],
    } as avro.Schema);
    const reader = avro.Type.forSchema({
      type: 'record',
      name: 'T',
      fields: [
        { name: 'new', type: 'string', aliases: ['old'] },
        { name: 'count', type: 'int', default: 3 },
        { name: 'note', type: ['null', 'string'], default: null },
      ],
    } as avro.Schema);
    const bytes = writer.toBuffer({ old: 'kept', gone: 9 });

    const convert = converter(writer, reader);
    expect(convert).toBeDefined();
    expect(convert?.(writer.fromBuffer(bytes))).toStrictEqual(
      reader.fromBuffer(bytes, reader.createResolver(writer)),
    );
    expect(convert?.(writer.fromBuffer(bytes))).toEqual({ new: 'kept', count: 3, note: null });
  });

  it('reads data written at the latest version with its own type, building no resolver', () => {
    const own = SchemaRegistry.fromDirectory();
    const latest = own.encode('MatchRecorded', {
      match_id: 'm',
      season: '2026',
      played_on: '2026-09-01',
      home_team: 'A',
      away_team: 'B',
      home_goals: 1,
      away_goals: 0,
      neutral: false,
      decided_by: 'regulation',
      venue: 'Field 2',
    });
    const spy = vi.spyOn(avro.Type.prototype, 'createResolver');
    try {
      const decoded = own.decode({
        eventType: 'MatchRecorded',
        fingerprint: latest.fingerprint,
        bytes: latest.bytes,
        ...context,
      });
      expect(decoded.data).toMatchObject({ match_id: 'm', venue: 'Field 2' });
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('gives what an upcaster returns in the form encoding gives it, when versions follow', () => {
    const things = SchemaRegistry.fromDirectory(
      folder({
        'Thing/v1.avsc': record('Thing', [{ name: 'ref', type: 'string' }]),
        'Thing/v2.avsc': record('Thing', [
          { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
          { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
          { name: 'on', type: { type: 'int', logicalType: 'date' } },
        ]),
        'Thing/v3.avsc': record('Thing', [
          { name: 'id', type: { type: 'string', logicalType: 'uuid' } },
          { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
          { name: 'on', type: { type: 'int', logicalType: 'date' } },
          { name: 'n', type: 'int', default: 1 },
        ]),
      }),
      [
        {
          eventType: 'Thing',
          fromVersion: 1,
          upcast: (data) => ({
            id: (data as { ref: string }).ref.toUpperCase(),
            at: '2026-09-01T10:00:00Z',
            on: '2026-09-01',
          }),
        },
      ],
    );
    const v1 = things.encode('Thing', { ref: '6f9619ff-8b86-4011-b42d-00c04fc964ff' }, 1);

    expect(
      things.decode({
        eventType: 'Thing',
        fingerprint: v1.fingerprint,
        bytes: v1.bytes,
        ...context,
      }),
    ).toEqual({
      version: 3,
      writerVersion: 1,
      data: {
        id: '6f9619ff-8b86-4011-b42d-00c04fc964ff',
        at: '2026-09-01T10:00:00.000Z',
        on: '2026-09-01',
        n: 1,
      },
    });
  });

  it.each([
    ['the latest version', 2],
    ['a version read on by resolution', 3],
  ])(
    'refuses what an upcaster returns when it does not match the schema of its version, upcasting to %s',
    (_, versions) => {
      const files: Record<string, unknown> = {
        'Thing/v1.avsc': record('Thing', [{ name: 'size', type: 'string' }]),
        'Thing/v2.avsc': record('Thing', [{ name: 'size_cm', type: 'int' }]),
      };
      if (versions === 3) {
        files['Thing/v3.avsc'] = record('Thing', [
          { name: 'size_cm', type: 'int' },
          { name: 'colour', type: 'string', default: 'grey' },
        ]);
      }
      const broken: SchemaUpcaster = {
        eventType: 'Thing',
        fromVersion: 1,
        upcast: (data) => ({ size_cm: (data as { size: string }).size }),
      };
      const things = SchemaRegistry.fromDirectory(folder(files), [broken]);
      const v1 = things.encode('Thing', { size: '42cm' }, 1);

      const error = rejection(() =>
        things.decode({
          eventType: 'Thing',
          fingerprint: v1.fingerprint,
          bytes: v1.bytes,
          ...context,
        }),
      );
      expect(error.code).toBe('UPCAST_FAILED');
      expect(error.message).toMatch(
        /^cannot upcast Thing v1 to v2: the upcast data does not match the schema at size_cm \(event e-1, type Thing, fingerprint [0-9a-f]+\)$/,
      );
    },
  );
});
