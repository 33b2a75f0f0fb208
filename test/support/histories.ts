import fc from 'fast-check';
import type { EventEnvelope } from '../../stream/EventEnvelope.js';
import { envelope, result } from './envelopes.js';
import { rpiCalculated, teamMetadataUpdated, teamRegistered } from './registry.js';

const TEAMS = ['A', 'B', 'C', 'D'];

/** Match streams whose results are corrected (moving day and teams) or cancelled; teams; a calculation. */
export const historyArb = fc
  .array(
    fc.record({
      home: fc.integer({ min: 0, max: 3 }),
      away: fc.integer({ min: 1, max: 3 }),
      results: fc.array(
        fc.record({
          goals: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
          day: fc.integer({ min: 1, max: 9 }),
          swap: fc.boolean(),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      cancel: fc.boolean(),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((matches) => {
    const streams: EventEnvelope[][] = TEAMS.map((t) => [
      envelope('TeamRegistered', `team:${t}`, 1, teamRegistered(t)),
      envelope(
        'TeamMetadataUpdated',
        `team:${t}`,
        2,
        teamMetadataUpdated(t, { conference: `C${t}` }),
      ),
    ]);
    matches.forEach((m, i) => {
      const home = TEAMS[m.home] ?? 'A';
      const away = TEAMS[(m.home + m.away) % TEAMS.length] ?? 'B';
      const events = m.results.map((r, k) =>
        result(
          `m${i}`,
          r.swap
            ? `${away} ${r.goals[0]}-${r.goals[1]} ${home}`
            : `${home} ${r.goals[0]}-${r.goals[1]} ${away}`,
          { sequence: k + 1, corrected: k > 0, playedOn: `2026-09-0${r.day}` },
        ),
      );
      if (m.cancel)
        events.push(
          envelope('MatchCancelled', `match:m${i}`, events.length + 1, {
            match_id: `m${i}`,
            reason: 'weather',
          }),
        );
      streams.push(events);
    });
    const calculation = { calculation_id: 'c1', season: '2026' };
    streams.push([
      envelope(
        'RpiCalculated',
        'rpi:c1',
        1,
        rpiCalculated('c1', { games_counted: matches.length }),
      ),
      envelope('RpiResultsPublished', 'rpi:c1', 2, {
        ...calculation,
        as_of: null,
        published_at: '2026-09-10T09:00:00.000Z',
      }),
      envelope('RpiResultsRetracted', 'rpi:c1', 3, { ...calculation, reason: 'test' }),
    ]);
    return streams;
  });
