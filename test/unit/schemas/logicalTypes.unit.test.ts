import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { civilDay, dayCount, LOGICAL_TYPES } from '../../../schemas/logicalTypes.js';

const parse = (schema: avro.Schema) =>
  avro.Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES, assertLogicalTypes: true });

describe('logical types', () => {
  it('reads and writes timestamp-millis as ISO-8601 strings in UTC', () => {
    const type = parse({ type: 'long', logicalType: 'timestamp-millis' });

    const bytes = type.toBuffer('2026-09-01T19:30:00-05:00');

    expect(avro.Type.forSchema('long').fromBuffer(bytes)).toBe(Date.UTC(2026, 8, 2, 0, 30));
    expect(type.fromBuffer(bytes)).toBe('2026-09-02T00:30:00.000Z');
    expect(type.isValid('yesterday')).toBe(false);
    expect(type.isValid(1234)).toBe(false);
  });

  it('reads and writes date as YYYY-MM-DD, days since the epoch underneath', () => {
    const type = parse({ type: 'int', logicalType: 'date' });

    expect(avro.Type.forSchema('int').fromBuffer(type.toBuffer('1970-01-02'))).toBe(1);
    expect(type.fromBuffer(type.toBuffer('2024-02-29'))).toBe('2024-02-29');
    expect(type.fromBuffer(type.toBuffer('1969-12-31'))).toBe('1969-12-31');
    expect(type.isValid('2023-02-29')).toBe(false);
  });

  it('checks uuids and keeps them in lower case', () => {
    const type = parse({ type: 'string', logicalType: 'uuid' });

    expect(type.fromBuffer(type.toBuffer('6F9619FF-8B86-D011-B42D-00C04FC964FF'))).toBe(
      '6f9619ff-8b86-d011-b42d-00c04fc964ff',
    );
    expect(type.isValid('not-a-uuid')).toBe(false);
  });

  it('resolves a plain writer type to the logical reader type', () => {
    const reader = parse({ type: 'long', logicalType: 'timestamp-millis' });
    const writer = avro.Type.forSchema('long');

    const value = reader.fromBuffer(writer.toBuffer(0), reader.createResolver(writer));

    expect(value).toBe('1970-01-01T00:00:00.000Z');
    expect(() => reader.createResolver(avro.Type.forSchema('string'))).toThrow();
  });
});

const DAY = 86_400_000;
/** Every day from 1600-01-01 to 2400-01-01, as days since the epoch. */
function* everyDay(): Generator<number> {
  for (let days = Date.UTC(1600, 0, 1) / DAY; days <= Date.UTC(2400, 0, 1) / DAY; days++)
    yield days;
}

describe('civilDay', () => {
  it('agrees with Date on every day from 1600 to 2400', () => {
    for (const days of everyDay()) {
      const expected = new Date(days * DAY).toISOString().slice(0, 10);
      if (civilDay(days) !== expected) expect(civilDay(days)).toBe(expected);
    }
  });
});

describe('dayCount', () => {
  it('is the inverse of civilDay on every day from 1600 to 2400, and of Date.parse', () => {
    for (const days of everyDay()) {
      const text = civilDay(days);
      if (dayCount(text) !== days) expect(dayCount(text)).toBe(days);
      if (days % 97 === 0) expect(Date.parse(`${text}T00:00:00Z`) / DAY).toBe(days);
    }
  });

  it('refuses what is no calendar day', () => {
    for (const text of [
      '2023-02-29',
      '2024-13-01',
      '2024-00-10',
      '2024-1-01',
      '24-01-01',
      'x024-01-01',
      '',
    ])
      expect(dayCount(text)).toBeUndefined();
    expect(dayCount('0000-03-01')).toBe(-719468);
  });
});
