import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../support/registry.js';

const FIXTURES = 'test/fixtures/events';

interface Fixture {
  event_type: string;
  version: number;
  fingerprint: string;
  avro_base64: string;
  data: Record<string, unknown>;
}

const versions = registry
  .eventTypes()
  .flatMap((t) => registry.versions(t).map((s) => [t, s.version] as const));

// Every version ever written must stay readable: each has stored bytes that decode today.
describe('stored fixtures of every schema version', () => {
  it('covers the whole catalog', () => {
    expect(versions.length).toBeGreaterThanOrEqual(18);
  });

  it.each(versions)(
    '%s v%i has a fixture that decodes to the latest version',
    (eventType, version) => {
      // Prepare
      const file = join(FIXTURES, eventType, `v${version}.json`);
      expect(
        existsSync(file),
        `missing fixture ${file}: run "matchstream schemas fixture ${eventType} --version ${version} --data example.json"`,
      ).toBe(true);
      const fixture = JSON.parse(readFileSync(file, 'utf8')) as Fixture;
      const schema = registry.get(eventType, version);
      const bytes = Buffer.from(fixture.avro_base64, 'base64');

      // Assess: the schema of a written version never changes...
      expect(
        fixture.fingerprint,
        `${eventType} v${version} was edited after data was written with it`,
      ).toBe(schema.fingerprint);
      // ...its bytes read back as the data they were written from, and encode to the same bytes...
      const own = schema.type.fromBuffer(bytes);
      expect(own).toEqual(fixture.data);
      expect(schema.type.toBuffer(fixture.data).equals(bytes)).toBe(true);
      // ...and decode, through resolution and upcasters, to valid data of the latest version.
      const decoded = registry.decode({
        eventType,
        fingerprint: fixture.fingerprint,
        bytes,
        eventId: 'fixture',
        aggregateId: 'fixture',
        timestamp: '2019-10-05T18:00:00.000Z',
      });
      const latest = registry.latest(eventType);
      expect(decoded.version).toBe(latest.version);
      expect(decoded.writerVersion).toBe(version);
      expect(latest.type.isValid(decoded.data)).toBe(true);
    },
  );

  it('reads MatchRecorded v1 at the latest version: the score split and the day from the event (upcaster), no venue (default)', () => {
    const fixture = JSON.parse(
      readFileSync(join(FIXTURES, 'MatchRecorded/v1.json'), 'utf8'),
    ) as Fixture;

    const decoded = registry.decode({
      eventType: 'MatchRecorded',
      fingerprint: fixture.fingerprint,
      bytes: Buffer.from(fixture.avro_base64, 'base64'),
      eventId: 'e1',
      aggregateId: 'match:2019-00412',
      timestamp: '2019-10-05T18:00:00.000Z',
    });

    expect(decoded).toMatchObject({
      version: registry.latest('MatchRecorded').version,
      writerVersion: 1,
      data: {
        match_id: '2019-00412',
        season: '2019',
        played_on: '2019-10-05',
        home_team: "Saint Mary's (Mossbury)",
        away_team: 'Coldport Christian',
        home_goals: 3,
        away_goals: 2,
        neutral: false,
        decided_by: 'regulation',
        venue: null,
      },
    });
  });

  it('reads MatchRecorded v2 with the venue at its default, and v3 with the venue', () => {
    const read = (version: number) => {
      const fixture = JSON.parse(
        readFileSync(join(FIXTURES, `MatchRecorded/v${version}.json`), 'utf8'),
      ) as Fixture;
      return registry.decode({
        eventType: 'MatchRecorded',
        fingerprint: fixture.fingerprint,
        bytes: Buffer.from(fixture.avro_base64, 'base64'),
        eventId: 'e1',
        aggregateId: 'match:x',
        timestamp: '2026-09-05T18:00:00.000Z',
      });
    };

    const latest = registry.latest('MatchRecorded').version;
    expect(read(2)).toMatchObject({ version: latest, writerVersion: 2, data: { venue: null } });
    expect(read(3)).toMatchObject({
      version: latest,
      writerVersion: 3,
      data: { venue: 'Harbor Field' },
    });
  });
});
