import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FeedError } from '../../../feeds/FeedError.js';
import { describeUnknownColumn, type UnknownColumn } from '../../../feeds/readFeed.js';
import { readGames } from '../../../feeds/readGames.js';
import { readTeams } from '../../../feeds/readTeams.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
const HEADER = 'date,home_team,away_team,home_score,away_score';

describe('readGames', () => {
  it('reads CSV with quoted names, a BOM, CRLF line ends and any column order', async () => {
    // Prepare
    const path = tmp.file(
      'games.csv',
      '\uFEFFaway_team,Home_Team,date,home_score,away_score,neutral,decided_by,match_id\r\n' +
        '"University of Riverton, Eastfield",North Harbor State,2024-09-01,2,1,true,,m1\r\n' +
        '"Saint ""Mary\'s""",North Harbor State,2024-09-08,1,1,,penalties,m2\r\n',
    );

    // Act
    const feed = await readGames(path);

    // Assess
    expect(feed.problems).toEqual([]);
    expect(feed.rows).toBe(2);
    expect(feed.games).toEqual([
      expect.objectContaining({
        awayTeam: 'University of Riverton, Eastfield',
        neutral: true,
        matchId: 'm1',
      }),
      expect.objectContaining({
        awayTeam: 'Saint "Mary\'s"',
        decidedBy: 'penalties',
        homeScore: 1,
      }),
    ]);
  });

  it('reads a name written composed or decomposed (NFC, NFD) as one name, composed, in both feeds', async () => {
    // Prepare: "Université" with é as one code point, and as e and a combining acute accent.
    const composed = 'Universit\u00E9 Laval';
    const decomposed = 'Universite\u0301 Laval';
    const games = tmp.file(
      'unicode.csv',
      `${HEADER}\n2024-09-01,${composed},B,2,1\n2024-09-08,B,${decomposed},1,1\n`,
    );
    const teams = tmp.file('unicode-teams.csv', `team,conference\n${decomposed},Caf\u0065\u0301\n`);

    // Act
    const feed = await readGames(games);
    const listed = await readTeams(teams);

    // Assess
    expect(feed.problems).toEqual([]);
    expect(feed.games.map((g) => [g.homeTeam, g.awayTeam])).toEqual([
      [composed, 'B'],
      ['B', composed],
    ]);
    expect(listed.teams).toEqual([
      expect.objectContaining({ team: composed, conference: 'Caf\u00E9' }),
    ]);
  });

  it('reads CSV whose lines end in a lone CR, as old Mac spreadsheets save it', async () => {
    // Arrange
    const path = tmp.file(
      'mac.csv',
      `${HEADER}\r2024-09-01,A,B,2,1\r2024-09-02,B,C,x,0\r2024-09-03,C,A,0,0\r`,
    );

    // Act
    const feed = await readGames(path);

    // Assess
    expect(feed.games.map((g) => `${g.homeTeam}-${g.awayTeam}`)).toEqual(['A-B', 'C-A']);
    expect(feed.problems).toEqual([
      { kind: 'problem', line: 3, reason: 'home_score "x" is not a whole number from 0 to 999' },
    ]);
    expect(feed.rows).toBe(3);
  });

  it('reports each bad row with its line and reason, and keeps every good row', async () => {
    const path = tmp.file(
      'bad.csv',
      [
        HEADER,
        '2024-09-01,A,B,2,1',
        '2024-09-01,A,B,two,1',
        '2024-09-01,A,A,1,0',
        '',
        'not-a-date,C,D,1,0',
        '2024-09-02,C,D,1',
        '2024-09-02,C,D,1,0,extra',
        '2024-09-03,"Multi',
        'line",D,0,0',
        '2024-09-04,"E"x,F,1,0',
        '2024-09-05,E,F,3,3',
      ].join('\n'),
    );

    const feed = await readGames(path);

    expect(feed.games.map((g) => `${g.homeTeam}-${g.awayTeam}`)).toEqual(['A-B', 'Ex-F', 'E-F']);
    expect(feed.problems).toEqual([
      { kind: 'problem', line: 3, reason: 'home_score "two" is not a whole number from 0 to 999' },
      { kind: 'problem', line: 4, reason: 'team "A" cannot play itself' },
      { kind: 'problem', line: 6, reason: 'date "not-a-date" is not a YYYY-MM-DD date' },
      { kind: 'problem', line: 7, reason: 'away_score is missing' },
      { kind: 'problem', line: 8, reason: 'row has 6 fields, the header has 5' },
      {
        kind: 'problem',
        line: 9,
        lastLine: 10,
        reason:
          'a quoted field opened on line 9 runs on to line 10 (a closing quote missing?), taking in line 10: home_team contains control characters',
      },
    ]);
    expect(feed.rows).toBe(9);
  });

  it('names the lines a quote left open took into one row', async () => {
    // Prepare: the quote opened on line 2 is closed by the first quote of line 4.
    const path = tmp.file(
      'open-quote.csv',
      [
        HEADER,
        '2024-09-01,"North Harbor State,B,2,1',
        '2024-09-02,C,D,1,0',
        '2024-09-03,"E",F,1,0',
        '2024-09-04,G,H,0,0',
      ].join('\n'),
    );

    // Act
    const feed = await readGames(path);

    // Assess: one row reported, saying it took lines 3 and 4; the row after it goes through.
    expect(feed.games.map((g) => g.homeTeam)).toEqual(['G']);
    expect(feed.problems).toEqual([
      expect.objectContaining({
        line: 2,
        lastLine: 4,
        reason: expect.stringMatching(
          /^a quoted field opened on line 2 runs on to line 4 \(a closing quote missing\?\), taking in lines 3-4: /,
        ),
      }),
    ]);
  });

  it('names the lines a quote never closed took, to the end of the file', async () => {
    const path = tmp.file(
      'never-closed.csv',
      [HEADER, '2024-09-01,A,B,1,0', '2024-09-02,"C,D,1,0', '2024-09-03,E,F,1,0', ''].join('\n'),
    );

    const feed = await readGames(path);

    expect(feed.games).toHaveLength(1);
    expect(feed.problems).toEqual([
      {
        kind: 'problem',
        line: 3,
        lastLine: 4,
        reason:
          'a quoted field opened on line 3 is never closed (missing "): it took in line 4 to the end of the file',
      },
    ]);
  });

  it('refuses N and Y in the neutral column unless told what they mean', async () => {
    // Prepare: a feed that writes N for "neutral site" and H for a home game.
    const path = tmp.file(
      'sites.csv',
      [`${HEADER},neutral`, '2024-09-01,A,B,1,0,N', '2024-09-02,C,D,1,0,H'].join('\n'),
    );

    // Act
    const unmapped = await readGames(path);
    const mapped = await readGames(path, { neutral: { true: ['N'], false: ['H', 'A'] } });

    // Assess
    expect(unmapped.games).toEqual([]);
    expect(unmapped.problems.map((p) => [p.line, p.reason])).toEqual([
      [
        2,
        'neutral "N" is ambiguous (feeds write N for "neutral site" as well as for "no"): write true or false, or say what it means with --neutral-true or --neutral-false',
      ],
      [3, 'neutral "H" is not true or false'],
    ]);
    expect(mapped.problems).toEqual([]);
    expect(mapped.games.map((g) => g.neutral)).toEqual([true, false]);
  });

  it('reads JSON Lines with the same keys, reporting lines that are not objects', async () => {
    const path = tmp.file(
      'games.jsonl',
      [
        JSON.stringify({
          date: '2024-09-01',
          home_team: 'A',
          away_team: 'B',
          home_score: 2,
          away_score: 1,
        }),
        '',
        '{"date": "2024-09-01", broken',
        '[1, 2]',
        JSON.stringify({
          DATE: '2024-09-02',
          home_team: 'B',
          away_team: 'C',
          home_score: 0,
          away_score: 0,
          neutral: true,
        }),
      ].join('\n'),
    );

    const feed = await readGames(path);

    expect(feed.games).toHaveLength(2);
    expect(feed.games[1]).toMatchObject({ homeTeam: 'B', neutral: true, date: '2024-09-02' });
    expect(feed.problems.map((p) => [p.line, p.reason.split(':')[0]])).toEqual([
      [3, 'not valid JSON'],
      [4, 'not a JSON object'],
    ]);
  });

  it('tells JSON Lines from CSV by the first byte when the extension says nothing', async () => {
    const jsonl = tmp.file(
      'feed.txt',
      '{"date":"2024-09-01","home_team":"A","away_team":"B","home_score":1,"away_score":0}\n',
    );
    const csv = tmp.file('feed.dat', `${HEADER}\n2024-09-01,A,B,1,0\n`);

    expect((await readGames(jsonl)).games).toHaveLength(1);
    expect((await readGames(csv)).games).toHaveLength(1);
  });

  it('reads standard input for "-"', async () => {
    const stdin = Readable.from([Buffer.from(`${HEADER}\n2024-09-01,A,B,1,0\n`)]);

    const feed = await readGames('-', { stdin });

    expect(feed.games).toHaveLength(1);
  });

  it('reports progress in bytes', async () => {
    const content = `${HEADER}\n2024-09-01,A,B,1,0\n`;
    const path = tmp.file('progress.csv', content);
    const seen: [number, number][] = [];

    await readGames(path, { onProgress: (done, total) => seen.push([done, total]) });

    expect(seen.at(-1)).toEqual([content.length, content.length]);
  });

  it('names each column it does not know, once, with the known one it probably misspells', async () => {
    // Prepare: a CSV header with two typos and a column of the feed's own; JSON Lines whose
    // keys come and go.
    const csv = tmp.file(
      'typos.csv',
      [
        'matchid,date,home_team,away_team,home_score,away_score,nuetral,attendance,',
        'm1,2024-09-01,A,B,2,1,true,900,',
        'm1,2024-09-01,A,B,3,1,true,900,',
      ].join('\n'),
    );
    const jsonl = tmp.file(
      'typos.jsonl',
      [
        '{"date":"2024-09-01","home_team":"A","away_team":"B","home_score":2,"away_score":1}',
        '{"date":"2024-09-02","home_team":"A","away_team":"B","home_score":2,"away_score":1,"Home_Scor":3}',
        '{"date":"2024-09-03","home_team":"A","away_team":"B","home_score":2,"away_score":1,"home_scor":3,"kickoff":"19:00"}',
      ].join('\n'),
    );
    const unknown: UnknownColumn[] = [];

    // Act
    const feed = await readGames(csv, { onUnknownColumn: (c) => unknown.push(c) });
    const lines = await readGames(jsonl, { onUnknownColumn: (c) => unknown.push(c) });

    // Assess: read and ignored (no match id: two games), each named once.
    expect(feed.problems).toEqual([]);
    expect(feed.games.map((g) => [g.matchId, g.neutral])).toEqual([
      [undefined, false],
      [undefined, false],
    ]);
    expect(lines.games).toHaveLength(3);
    expect(unknown).toEqual([
      { name: 'matchid', line: 1, format: 'csv', closest: 'match_id' },
      { name: 'nuetral', line: 1, format: 'csv', closest: 'neutral' },
      { name: 'attendance', line: 1, format: 'csv' },
      { name: 'home_scor', line: 2, format: 'jsonl', closest: 'home_score' },
      { name: 'kickoff', line: 3, format: 'jsonl' },
    ]);
    expect(unknown.map((c) => describeUnknownColumn('f', c))).toEqual([
      'f: unknown column "matchid" (did you mean "match_id"?): ignored',
      'f: unknown column "nuetral" (did you mean "neutral"?): ignored',
      'f: unknown column "attendance": ignored',
      'f:2: unknown key "home_scor" (did you mean "home_score"?): ignored',
      'f:3: unknown key "kickoff": ignored',
    ]);
  });

  it('refuses a file without the required columns, naming them', async () => {
    const path = tmp.file(
      'columns.csv',
      'date,home,away,home_score,away_score\n2024-09-01,A,B,1,0\n',
    );

    await expect(readGames(path)).rejects.toThrow(FeedError);
    await expect(readGames(path)).rejects.toThrow(
      /columns\.csv:1: missing required columns home_team, away_team/,
    );
  });

  it('refuses a missing file and an empty file with a clear error', async () => {
    await expect(readGames(tmp.path('nope.csv'))).rejects.toThrow(
      /nope\.csv: cannot read: no such file/,
    );
    await expect(readGames(tmp.file('empty.csv', ''))).rejects.toThrow(
      /empty\.csv: the file is empty/,
    );
    await expect(readGames(tmp.dir)).rejects.toThrow(/cannot read: a folder, not a file/);
  });

  it('refuses an empty JSON Lines file as it refuses an empty CSV file', async () => {
    // Arrange: nothing, or blank lines only.
    const empty = tmp.file('empty.jsonl', '');
    const blank = tmp.file('blank.jsonl', '\n  \r\n\n');

    // Act, Assess
    await expect(readGames(empty)).rejects.toThrow(/empty\.jsonl: the file is empty/);
    await expect(readGames(blank)).rejects.toThrow(/blank\.jsonl: the file is empty/);
    await expect(readTeams(empty)).rejects.toThrow(/empty\.jsonl: the file is empty/);
  });

  it('refuses a header with a column twice', async () => {
    const path = tmp.file('twice.csv', `${HEADER},date\n`);
    await expect(readGames(path)).rejects.toThrow(/column "date" appears twice/);
  });

  it('reports a record larger than the limit and keeps the rows after it', async () => {
    const big = 'x'.repeat(1_100_000);
    const path = tmp.file(
      'huge.csv',
      `${HEADER}\n2024-09-01,"${big}",B,1,0\n2024-09-02,C,D,1,0\n2024-09-03,${big},B,1,0\n2024-09-04,E,F,1,0\n`,
    );

    const feed = await readGames(path);

    expect(feed.problems.map((p) => [p.line, p.reason])).toEqual([
      [2, 'record is longer than 1048576 characters; skipped to the next line'],
      [4, 'record is longer than 1048576 characters; skipped to the next line'],
    ]);
    expect(feed.games.map((g) => g.homeTeam)).toEqual(['C', 'E']);
  });

  it('reports a JSON line larger than the limit and keeps the lines after it', async () => {
    const good = JSON.stringify({
      date: '2024-09-01',
      home_team: 'A',
      away_team: 'B',
      home_score: 1,
      away_score: 0,
    });
    const path = tmp.file('huge.jsonl', `{"x":"${'y'.repeat(1_100_000)}"}\n${good}\n`);

    const feed = await readGames(path);

    expect(feed.problems.map((p) => [p.line, p.reason])).toEqual([
      [1, 'line is longer than 1048576 characters'],
    ]);
    expect(feed.games).toHaveLength(1);
  });

  it('reports rows that are not UTF-8 and an unclosed quote', async () => {
    const latin1 = Buffer.concat([
      Buffer.from(`${HEADER}\n2024-09-01,`),
      Buffer.from([0x4d, 0xfc, 0x6e]), // "Mün" in Latin-1
      Buffer.from(',B,1,0\n2024-09-02,C,D,1,0\n2024-09-03,"E,F,1,0\n2024-09-04,G,H,1,0\n'),
    ]);

    const feed = await readGames(tmp.file('latin1.csv', latin1));

    expect(feed.games.map((g) => g.homeTeam)).toEqual(['C']);
    expect(feed.problems.map((p) => [p.line, p.reason])).toEqual([
      [2, 'row is not valid UTF-8 text'],
      [
        4,
        'a quoted field opened on line 4 is never closed (missing "): it took in line 5 to the end of the file',
      ],
    ]);
  });
});

describe('readTeams', () => {
  it('reads a team list by "team" or "name", with conferences, reporting repeats', async () => {
    const byTeam = tmp.file(
      'teams.csv',
      'team,conference\nA,East\n"B, Campus",West\nA,East\n,West\n',
    );
    const byName = tmp.file('names.csv', 'name\nA\nB\n');

    const teams = await readTeams(byTeam);
    const names = await readTeams(byName);

    expect(teams.teams).toEqual([
      { team: 'A', conference: 'East' },
      { team: 'B, Campus', conference: 'West' },
    ]);
    expect(teams.problems.map((p) => [p.line, p.reason])).toEqual([
      [4, 'team "A" is listed twice'],
      [5, 'team is missing'],
    ]);
    expect(names.teams).toEqual([{ team: 'A' }, { team: 'B' }]);
  });

  it('reads division and region, and rejects control characters and overlong names', async () => {
    const path = tmp.file(
      'directory.csv',
      `team,conference,division,region\nA,East,I,North\nB,,II,\nC,East,I\u0007,West\n${'D'.repeat(201)},,,\n`,
    );

    const feed = await readTeams(path);

    expect(feed.teams).toEqual([
      { team: 'A', conference: 'East', division: 'I', region: 'North' },
      { team: 'B', division: 'II' },
    ]);
    expect(feed.problems.map((p) => [p.line, p.reason])).toEqual([
      [4, 'division is longer than 200 characters or has control characters'],
      [5, 'team is longer than 200 characters or has control characters'],
    ]);
  });

  it('refuses the names the games feed refuses: formula-like, markup', async () => {
    const path = tmp.file(
      'unsafe.csv',
      'team,conference\nA,East\n=SUM(A1),East\n<script>alert(1)</script>,\nB,+West\n"  @home",\nC-D,East-Coast\n',
    );

    const feed = await readTeams(path);

    expect(feed.teams).toEqual([
      { team: 'A', conference: 'East' },
      { team: 'C-D', conference: 'East-Coast' },
    ]);
    expect(feed.problems.map((p) => [p.line, p.reason])).toEqual([
      [3, 'team "=SUM(A1)" starts like a spreadsheet formula'],
      [4, 'team "<script>alert(1)</script>" contains markup characters (< or >)'],
      [5, 'conference "+West" starts like a spreadsheet formula'],
      [6, 'team "@home" starts like a spreadsheet formula'],
    ]);
  });

  it('reads JSON numbers in a JSON Lines list as their text, and refuses objects and lists', async () => {
    // Arrange: divisions written as numbers, as a JSON export gives them.
    const path = tmp.file(
      'directory.jsonl',
      [
        '{"team":"A","division":1,"conference":"East"}',
        '{"team":2024,"division":"2"}',
        '{"team":"B","region":{"name":"North"}}',
        '{"team":["C"]}',
      ].join('\n'),
    );

    // Act
    const feed = await readTeams(path);

    // Assess
    expect(feed.teams).toEqual([
      { team: 'A', conference: 'East', division: '1' },
      { team: '2024', division: '2' },
    ]);
    expect(feed.problems.map((p) => [p.line, p.reason])).toEqual([
      [3, 'region is not text'],
      [4, 'team is not text'],
    ]);
  });

  it('refuses a list without a team column', async () => {
    await expect(readTeams(tmp.file('noteam.csv', 'school\nA\n'))).rejects.toThrow(
      /missing required column team\|name/,
    );
  });
});
