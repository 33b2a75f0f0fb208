import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { latestVersion } from '../support/registry.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/** What the refusal of a version a type does not have says it has. */
function versions(type: string): string {
  const latest = latestVersion(type);
  return latest === 1 ? 'its only version is 1' : `its versions are 1 to ${latest}`;
}

describe('matchstream schemas', () => {
  it('checks the project schemas', async () => {
    const run = await runCli(['schemas', 'check']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^schemas ok: \d+ event types, \d+ versions\n$/);
  });

  it('lists and shows schemas', async () => {
    const list = JSON.parse((await runCli(['schemas', 'list', '--json'])).stdout);
    const show = JSON.parse(
      (await runCli(['schemas', 'show', 'MatchRecorded', '--version', '1', '--json'])).stdout,
    );

    expect(list).toContainEqual(
      expect.objectContaining({
        event_type: 'MatchRecorded',
        latest: latestVersion('MatchRecorded'),
        mode: 'BACKWARD_ALL',
        upcasters: ['v1→v2'],
      }),
    );
    expect(show).toMatchObject({
      event_type: 'MatchRecorded',
      version: 1,
      schema: { name: 'MatchRecorded' },
    });
    expect(show.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names an unknown event type once, with the one it probably misspells (exit 2, a command line naming nothing)', async () => {
    const typo = await runCli(['schemas', 'show', 'MatchRecordd']);
    const unknown = await runCli(['schemas', 'show', 'Nope']);
    const cased = await runCli(['schemas', 'show', 'matchrecorded']);

    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(
      /^matchstream: unknown event type "MatchRecordd": did you mean "MatchRecorded"\? "matchstream schemas list" names the \d+ there are\n$/,
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^matchstream: unknown event type "Nope": "matchstream schemas list" names the \d+ there are\n$/,
    );
    expect(cased.code).toBe(2);
    expect(cased.stderr).toContain('did you mean "MatchRecorded"?');
  });

  it('says in one line, without pointing at --debug, what a schema command was given wrong', async () => {
    const data = tmp.file('cancelled.json', JSON.stringify({ match_id: 'x', reason: null }));
    const fixture = (type: string, version: string) => [
      'schemas',
      'fixture',
      type,
      '--version',
      version,
      '--data',
      data,
      '--fixtures',
      join(tmp.dir, 'wrong'),
    ];

    const runs = {
      version: await runCli(['schemas', 'show', 'MatchRecorded', '--version', '99']),
      fixtureVersion: await runCli(fixture('MatchCancelled', '9')),
      fixtureType: await runCli(fixture('Nope', '1')),
      folder: await runCli(['schemas', 'list', '--dir', join(tmp.dir, 'no-such-folder')]),
    };

    expect(
      Object.fromEntries(Object.entries(runs).map(([k, run]) => [k, [run.code, run.stderr]])),
    ).toEqual({
      // A type or a version the folder has none of: a command line naming nothing, exit 2.
      version: [2, `matchstream: MatchRecorded has no version 99: ${versions('MatchRecorded')}\n`],
      fixtureVersion: [
        2,
        `matchstream: MatchCancelled has no version 9: ${versions('MatchCancelled')}\n`,
      ],
      fixtureType: [
        2,
        expect.stringMatching(
          /^matchstream: unknown event type "Nope": "matchstream schemas list" names the \d+ there are\n$/,
        ),
      ],
      folder: [
        1,
        `matchstream: schema folder not found (file ${join(tmp.dir, 'no-such-folder')})\n`,
      ],
    });
  });

  it('adds a version, checks it, and lists every violation of an incompatible edit', async () => {
    // Prepare: a copy of the schema folder to work on.
    const dir = join(tmp.dir, 'avro');
    cpSync('schemas/avro', dir, { recursive: true });

    // Act: a new version, first with a field that has a default, then without.
    const added = await runCli(['schemas', 'new', 'MatchRecorded', '--dir', dir]);
    const latest = latestVersion('MatchRecorded');
    const next = latest + 1;
    const file = join(dir, 'MatchRecorded', `v${next}.avsc`);
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    schema.fields.push({ name: 'spec_note', type: ['null', 'string'], default: null });
    writeFileSync(file, JSON.stringify(schema));
    const compatible = await runCli(['schemas', 'check', '--dir', dir]);
    schema.fields.push({ name: 'spec_referee', type: 'string' });
    const goals = schema.fields.find((f: { name: string }) => f.name === 'home_goals');
    goals.type = 'string';
    writeFileSync(file, JSON.stringify(schema));
    const incompatible = await runCli(['schemas', 'check', '--dir', dir]);

    // Assess
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`wrote ${file} (a copy of v${latest})`);
    // The commands it says to run next name the folder it wrote in, not the project's.
    expect(added.stdout).toContain(`Run: matchstream schemas check --dir ${dir}\n`);
    expect(added.stdout).toContain(
      `matchstream schemas fixture MatchRecorded --version ${next} --data example.json --dir ${dir}\n`,
    );
    expect(added.stdout).toContain('npm run schemas:types, then npm run typecheck');
    expect(compatible.code).toBe(0);
    expect(incompatible.code).toBe(1);
    // Every version since v2 (v1 is reached by an upcaster), each violation by field.
    const older = Array.from({ length: latest - 1 }, (_, i) => i + 2);
    expect(incompatible.stderr).toBe(
      [
        ...older.flatMap((v) => [
          `matchstream: MatchRecorded v${next} cannot read v${v} (BACKWARD_ALL): MatchRecorded.home_goals: type changed from int (v${v}) to string (v${next})`,
          `matchstream: MatchRecorded v${next} cannot read v${v} (BACKWARD_ALL): MatchRecorded.spec_referee: field "spec_referee" (string) is missing from v${v} and has no default`,
        ]),
        `matchstream: ${older.length * 2} compatibility violations`,
        '',
      ].join('\n'),
    );
  });

  it('adds v1 of a new event type, saying what a new type needs rather than what a new version does', async () => {
    // Prepare
    const dir = join(tmp.dir, 'new-type');
    cpSync('schemas/avro', dir, { recursive: true });

    // Act
    const added = await runCli(['schemas', 'new', 'VenueOpened', '--dir', dir]);
    const check = await runCli(['schemas', 'check', '--dir', dir]);

    // Assess: no older data to read, no upcaster from a version before v1.
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`wrote ${join(dir, 'VenueOpened', 'v1.avsc')}\n`);
    expect(added.stdout).toContain('matchstream schemas fixture VenueOpened --version 1');
    expect(added.stdout).toContain(
      "every read model, bus handler\n     and fold, and the bus router's table",
    );
    expect(added.stdout).not.toContain('upcaster');
    expect(added.stdout).not.toContain('older data');
    expect(check.code).toBe(0);
  });

  it('says when a new version is still a copy of the previous one', async () => {
    const dir = join(tmp.dir, 'copy');
    cpSync('schemas/avro', dir, { recursive: true });
    await runCli(['schemas', 'new', 'TeamRegistered', '--dir', dir]);

    const run = await runCli(['schemas', 'check', '--dir', dir]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /TeamRegistered v3 has the same canonical form as TeamRegistered v2; a new version must change the schema/,
    );
  });

  it('writes the fixture of a version from example data', async () => {
    const data = tmp.file('example.json', JSON.stringify({ match_id: 'x', reason: null }));
    const fixtures = join(tmp.dir, 'fixtures');

    const run = await runCli([
      'schemas',
      'fixture',
      'MatchCancelled',
      '--version',
      '1',
      '--data',
      data,
      '--fixtures',
      fixtures,
    ]);

    expect(run.code).toBe(0);
    const fixture = JSON.parse(readFileSync(join(fixtures, 'MatchCancelled', 'v1.json'), 'utf8'));
    expect(fixture).toMatchObject({
      event_type: 'MatchCancelled',
      version: 1,
      data: { match_id: 'x', reason: null },
    });
  });

  it('refuses to replace a written fixture unless forced, leaving its bytes as they were', async () => {
    // Prepare: a fixture written once.
    const fixtures = join(tmp.dir, 'pinned');
    const args = (data: string) => [
      'schemas',
      'fixture',
      'MatchCancelled',
      '--version',
      '1',
      '--data',
      data,
      '--fixtures',
      fixtures,
    ];
    const first = tmp.file('first.json', JSON.stringify({ match_id: 'first', reason: null }));
    const second = tmp.file('second.json', JSON.stringify({ match_id: 'second', reason: 'rain' }));
    expect((await runCli(args(first))).code).toBe(0);
    const file = join(fixtures, 'MatchCancelled', 'v1.json');
    const written = readFileSync(file, 'utf8');

    // Act
    const refused = await runCli(args(second));
    const kept = readFileSync(file, 'utf8');
    const forced = await runCli([...args(second), '--force']);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `matchstream: ${file} exists already: the fixture of a written version never changes (--force replaces it, for a version not yet released)\n`,
    );
    expect(kept).toBe(written);
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).data).toEqual({
      match_id: 'second',
      reason: 'rain',
    });
  });

  it("keeps the project's fixtures whatever folder the command runs in", async () => {
    // Prepare: example data of a version whose fixture the project holds, run from elsewhere.
    const data = tmp.file('released.json', JSON.stringify({ match_id: 'x', reason: null }));
    const project = join('test', 'fixtures', 'events', 'MatchCancelled', 'v1.json');
    const pinned = readFileSync(project, 'utf8');

    // Act
    const run = await runCli(
      ['schemas', 'fixture', 'MatchCancelled', '--version', '1', '--data', data],
      { cwd: tmp.dir },
    );

    // Assess: refused as in the checkout, nothing written where the command ran.
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `matchstream: ${resolve(project)} exists already: the fixture of a written version never changes (--force replaces it, for a version not yet released)\n`,
    );
    expect(readFileSync(project, 'utf8')).toBe(pinned);
    expect(existsSync(join(tmp.dir, 'test'))).toBe(false);
  });

  it('says a --data file that cannot be read apart from one that is not JSON', async () => {
    const missing = join(tmp.dir, 'no-such-example.json');
    const notJson = tmp.file('not-json.json', 'match_id: x');
    const fixture = (data: string) =>
      runCli([
        'schemas',
        'fixture',
        'MatchCancelled',
        '--version',
        '1',
        '--data',
        data,
        '--fixtures',
        join(tmp.dir, 'unread'),
      ]);

    const unreadable = await fixture(missing);
    const invalid = await fixture(notJson);

    expect([unreadable.code, unreadable.stderr]).toEqual([
      1,
      `matchstream: --data ${missing}: cannot read: no such file\n`,
    ]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^matchstream: --data .*not-json\.json: not a JSON file: /);
  });

  it('names violations in snake_case in --json, as every JSON output does', async () => {
    const dir = join(tmp.dir, 'violations');
    cpSync('schemas/avro', dir, { recursive: true });
    await runCli(['schemas', 'new', 'MatchCancelled', '--dir', dir]);
    const file = join(dir, 'MatchCancelled', `v${latestVersion('MatchCancelled') + 1}.avsc`);
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    schema.fields.push({ name: 'spec_referee', type: 'string' });
    writeFileSync(file, JSON.stringify(schema));

    const run = await runCli(['schemas', 'check', '--dir', dir, '--json']);

    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.violations[0]).toEqual({
      event_type: 'MatchCancelled',
      message: expect.stringContaining('spec_referee'),
    });
  });
});
