import avro from 'avsc';
import { isCalendarDay } from '../domain/games/parseDate.js';

const { LogicalType } = avro.types;
const DAY_MS = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `timestamp-millis` (a long, milliseconds since the epoch) read and written as an ISO-8601
 * string in UTC, e.g. `2026-09-01T19:00:00.000Z`.
 */
export class TimestampMillisType extends LogicalType {
  protected override _fromValue(value: number): string {
    return new Date(value).toISOString();
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value !== 'string') return undefined;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }

  protected override _resolve(type: avro.Type): ((value: never) => string) | undefined {
    // A logical writer hands over its logical value already; a plain long is converted.
    if (avro.Type.isType(type, 'logical:timestamp-millis')) return (value: string) => value;
    if (avro.Type.isType(type, 'long')) return (value: number) => this._fromValue(value);
    return undefined;
  }
}

/** `date` (an int, days since the epoch) read and written as a `YYYY-MM-DD` string. */
export class DateType extends LogicalType {
  protected override _fromValue(value: number): string {
    return new Date(value * DAY_MS).toISOString().slice(0, 10);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (typeof value !== 'string' || !isCalendarDay(value)) return undefined;
    return Math.round(Date.parse(`${value}T00:00:00Z`) / DAY_MS);
  }

  protected override _resolve(type: avro.Type): ((value: never) => string) | undefined {
    if (avro.Type.isType(type, 'logical:date')) return (value: string) => value;
    if (avro.Type.isType(type, 'int')) return (value: number) => this._fromValue(value);
    return undefined;
  }
}

/** `uuid` (a string) checked on write and kept in lower case. */
export class UuidType extends LogicalType {
  protected override _fromValue(value: string): string {
    return value;
  }

  protected override _toValue(value: unknown): string | undefined {
    return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
  }

  protected override _resolve(type: avro.Type): ((value: string) => string) | undefined {
    if (avro.Type.isType(type, 'string', 'logical:uuid')) return (value) => value;
    return undefined;
  }
}

/** The logical types every schema of the project is parsed with. */
export const LOGICAL_TYPES = {
  'timestamp-millis': TimestampMillisType,
  date: DateType,
  uuid: UuidType,
};
