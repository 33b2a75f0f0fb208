import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../../api/refusal.js';
import { SeasonAsOfQuery, StartSagaBody } from '../../../api/schemas.js';

const failure = (schema: typeof SeasonAsOfQuery | typeof StartSagaBody, values: unknown) => {
  const result = schema.safeParse(values);
  if (result.success) throw new Error('the values passed');
  return result.error;
};

describe('the message of a refused request', () => {
  it('names unknown query parameters before any other problem, with what the route takes', () => {
    const error = failure(SeasonAsOfQuery, { seasn: '2026' });

    expect(refusalOf(error, 'query', ['season', 'as_of'])).toBe(
      'unknown query parameter "seasn" (this route takes season, as_of)',
    );
  });

  it('shows five unknown names at most, each escaped and cut at 40 characters', () => {
    const names = ['a'.repeat(50), 'new\nline', 'c', 'd', 'e', 'f', 'g'];
    const error = failure(SeasonAsOfQuery, {
      season: '2026',
      ...Object.fromEntries(names.map((n) => [n, '1'])),
    });

    expect(refusalOf(error, 'query', [])).toBe(
      `unknown query parameters "${'a'.repeat(40)}…", "new\\nline", "c", "d", "e" and 2 more (this route takes no query parameters)`,
    );
  });

  it('says a parameter is given twice rather than that it is malformed', () => {
    const error = failure(SeasonAsOfQuery, { season: ['2026', '2027'] });

    expect(refusalOf(error, 'query', ['season', 'as_of'], 'season')).toBe(
      'season is given more than once',
    );
  });

  it("gives the schema's own message for the first problem, in the body's field order", () => {
    const error = failure(StartSagaBody, { as_of: '2026-02-30', profile: 'chess' });

    expect(refusalOf(error, 'body', Object.keys(StartSagaBody.shape))).toBe(
      'season is required, e.g. ?season=2026',
    );
    expect(
      refusalOf(failure(StartSagaBody, { season: '2026', as_of: '2026-02-30' }), 'body', []),
    ).toBe('as_of must be a YYYY-MM-DD date');
  });

  it('names unknown body fields with the fields the body takes', () => {
    const error = failure(StartSagaBody, { season: '2026', seasons: ['2025'] });

    expect(refusalOf(error, 'body', Object.keys(StartSagaBody.shape))).toBe(
      'unknown field "seasons" in the body (it takes type, season, as_of, profile, division, variant, adjustments)',
    );
  });
});
