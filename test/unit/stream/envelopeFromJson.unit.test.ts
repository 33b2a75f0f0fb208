import { describe, expect, it } from 'vitest';
import { SchemaError } from '../../../schemas/SchemaError.js';
import { envelopeFromJson } from '../../../stream/eventStore/Commit.js';
import { registry } from '../../support/registry.js';

/** An envelope as a bus event's detail carries it after EventBridge: JSON, at `version`. */
function detail(version: number, data: Record<string, unknown>, extra: object = {}): unknown {
  return JSON.parse(
    JSON.stringify({
      event_id: 'e1',
      event_type: 'MatchRecorded',
      aggregate_id: 'match:m1',
      sequence: 1,
      timestamp: '2026-09-04T20:00:00.000Z',
      data,
      version,
      correlation_id: 'c',
      causation_id: null,
      ...extra,
    }),
  );
}

const v2 = {
  match_id: 'm1',
  season: '2026',
  played_on: '2026-09-04',
  home_team: 'North Harbor State',
  away_team: 'Riverton',
  home_goals: 1,
  away_goals: 1,
  neutral: true,
  decided_by: 'penalties',
};

describe('an envelope that travelled as JSON (a bus event)', () => {
  it('comes back at the latest version, as stored events do, from a publisher a release behind', () => {
    // Act: a router still on MatchRecorded v2 published it (no venue yet)
    const envelope = envelopeFromJson(detail(2, v2), registry);

    // Assess
    expect(envelope).toMatchObject({
      event_type: 'MatchRecorded',
      version: registry.latest('MatchRecorded').version,
      data: { ...v2, venue: null },
    });
    expect(envelope && 'replayed' in envelope).toBe(false);
  });

  it('is upcast where the meaning changed, and keeps the mark of a replay', () => {
    const envelope = envelopeFromJson(
      detail(
        1,
        { match_id: 'm1', home_team: 'A', away_team: 'B', score: '3-2' },
        { replayed: true },
      ),
      registry,
    );

    expect(envelope).toMatchObject({
      replayed: true,
      data: { home_goals: 3, away_goals: 2, played_on: '2026-09-04', season: '2026' },
    });
  });

  it('is refused, naming what is wrong, when its data or envelope is not what the schema says', () => {
    const refused = (value: unknown) => {
      try {
        envelopeFromJson(value, registry);
      } catch (error) {
        return error;
      }
      throw new Error('accepted');
    };

    expect(refused(detail(2, { ...v2, home_goals: 'one' }))).toMatchObject({
      code: 'INVALID_DATA',
      message: expect.stringContaining('home_goals'),
    });
    expect(refused(detail(2, v2, { event_type: 'MatchPostponed' }))).toMatchObject({
      code: 'UNKNOWN_EVENT_TYPE',
    });
    expect(refused(detail(2, v2, { sequence: '1' }))).toBeInstanceOf(SchemaError);
    expect(String(refused(detail(2, v2, { aggregate_id: null })))).toMatch(
      /aggregate_id is not a string/,
    );
    expect(refused([])).toMatchObject({ code: 'INVALID_DATA' });
    expect(envelopeFromJson(undefined, registry)).toBeUndefined();
  });
});
