import { describe, expect, it } from 'vitest';
import { isCalendarDay, parseDay } from '../../../domain/games/parseDate.js';
import { validateGame } from '../../../domain/games/validateGame.js';

const row = {
  date: '2024-09-01',
  home_team: 'North Harbor State',
  away_team: 'University of Riverton, Eastfield',
  home_score: '2',
  away_score: '1',
};

describe('validateGame', () => {
  it('accepts the required columns and fills the defaults', () => {
    expect(validateGame(row)).toEqual({
      ok: true,
      game: {
        season: '2024',
        date: '2024-09-01',
        homeTeam: 'North Harbor State',
        awayTeam: 'University of Riverton, Eastfield',
        homeScore: 2,
        awayScore: 1,
        neutral: false,
        decidedBy: 'regulation',
      },
    });
  });

  it('reads the optional columns, in any case, from strings or JSON values', () => {
    const result = validateGame({
      ...row,
      home_score: 1,
      away_score: 1,
      neutral: 'TRUE',
      decided_by: 'Penalties',
      match_id: ' m-17 ',
      season: '2024-25',
      venue: ' Harbor Field ',
    });
    expect(result).toMatchObject({
      ok: true,
      game: {
        matchId: 'm-17',
        season: '2024-25',
        venue: 'Harbor Field',
        neutral: true,
        decidedBy: 'penalties',
        homeScore: 1,
      },
    });
    expect(validateGame({ ...row, neutral: false })).toMatchObject({ game: { neutral: false } });
  });

  it('takes the day of an ISO date-time as written', () => {
    expect(validateGame({ ...row, date: '2024-09-01T19:30:00-05:00' })).toMatchObject({
      game: { date: '2024-09-01' },
    });
  });

  it.each([
    [{ home_score: 'x' }, 'home_score "x" is not a whole number from 0 to 999'],
    [{ away_score: '-1' }, 'away_score "-1" is not a whole number'],
    [{ away_score: '1.5' }, 'away_score "1.5" is not a whole number'],
    [{ home_score: '' }, 'home_score is missing'],
    [{ away_team: undefined }, 'away_team is missing'],
    [{ away_team: 'North Harbor State' }, 'team "North Harbor State" cannot play itself'],
    [{ date: '2024-02-30' }, 'date "2024-02-30" is not a YYYY-MM-DD date'],
    [{ date: '09/01/2024' }, 'date "09/01/2024" is not a YYYY-MM-DD date'],
    [{ date: undefined }, 'date is missing'],
    [{ neutral: 'maybe' }, 'neutral "maybe" is not true or false'],
    [{ neutral: 'N' }, 'neutral "N" is ambiguous'],
    [{ neutral: ' y ' }, 'neutral "y" is ambiguous'],
    [
      { decided_by: 'coin toss' },
      'decided_by "coin toss" is not one of regulation, overtime, penalties',
    ],
    [{ home_team: 'A\u0000B' }, 'home_team contains control characters'],
    [{ home_team: 'x'.repeat(201) }, 'home_team is longer than 200 characters'],
    [{ venue: 'x'.repeat(201) }, 'venue is longer than 200 characters'],
    [{ venue: 'Field\r\n2' }, 'venue contains control characters'],
    [{ home_team: '=HYPERLINK("http://x")' }, 'starts like a spreadsheet formula'],
    [{ away_team: '@SUM(A1:A9)' }, 'away_team "@SUM(A1:A9)" starts like a spreadsheet formula'],
    [{ home_team: '+1 FC' }, 'starts like a spreadsheet formula'],
    [{ home_team: '<script>alert(1)</script>' }, 'contains markup characters (< or >)'],
    [{ away_team: 'Caf\uFFFD United' }, 'away_team is not valid UTF-8 text'],
    [{ venue: '=cmd|calc' }, 'venue "=cmd|calc" starts like a spreadsheet formula'],
  ])('refuses %o', (change, reason) => {
    const result = validateGame({ ...row, ...change });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reasons.join('; ')).toContain(reason);
  });

  it('gives every reason at once and cuts long values short', () => {
    const result = validateGame({ date: 'x'.repeat(500), home_team: 'A', away_team: 'A' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reasons).toHaveLength(4);
    expect(result.reasons[0]).toBe(`date "${'x'.repeat(37)}..." is not a YYYY-MM-DD date`);
  });
});

describe('parseDay', () => {
  it.each([
    ['2024-02-29', '2024-02-29'],
    ['2023-02-29', undefined],
    ['2024-13-01', undefined],
    [' 2024-09-01 ', '2024-09-01'],
    ['2024-09-01T10:00:00Z', '2024-09-01'],
    ['2024-09-01Tgarbage', undefined],
    ['', undefined],
  ])('%s -> %s', (text, day) => {
    expect(parseDay(text)).toBe(day);
  });
});

describe('isCalendarDay', () => {
  it('agrees with the calendar on every day of four years, leap years and centuries included', () => {
    for (const year of [1900, 2000, 2023, 2024]) {
      for (let month = 1; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          const date = new Date(Date.UTC(year, month - 1, day));
          const real =
            date.getUTCFullYear() === year &&
            date.getUTCMonth() === month - 1 &&
            date.getUTCDate() === day;
          expect(isCalendarDay(text), text).toBe(real);
        }
      }
    }
  });

  it.each(['2024-1-01', '2024/01/01', '2024-01-0a', ' 2024-01-01', '20240101'])(
    'refuses %s',
    (text) => {
      expect(isCalendarDay(text)).toBe(false);
    },
  );
});

describe('validateGame neutral values', () => {
  const row = {
    date: '2024-09-01',
    home_team: 'A',
    away_team: 'B',
    home_score: '1',
    away_score: '0',
  };

  it('reads mapped values before the built-in words, without case or surrounding space', () => {
    const neutral = { true: ['N'], false: ['H', 'a'] };

    expect(validateGame({ ...row, neutral: ' n ' }, { neutral })).toMatchObject({
      game: { neutral: true },
    });
    expect(validateGame({ ...row, neutral: 'A' }, { neutral })).toMatchObject({
      game: { neutral: false },
    });
    expect(validateGame({ ...row, neutral: 'yes' }, { neutral })).toMatchObject({
      game: { neutral: true },
    });
    expect(validateGame({ ...row, neutral: 'Y' }, { neutral })).toMatchObject({
      ok: false,
      reasons: [expect.stringContaining('neutral "Y" is ambiguous')],
    });
    expect(validateGame({ ...row, neutral: 'X' }, { neutral })).toMatchObject({
      ok: false,
      reasons: ['neutral "X" is not true or false nor one of the mapped values'],
    });
  });
});
