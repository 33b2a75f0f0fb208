import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/** A copy of `folder` whose LevelDB store `store` (dynamodb, kinesis) names a file it lacks. */
function damaged(folder: string, store: 'dynamodb' | 'kinesis'): string {
  const copy = tmp.path(`damaged-${store}`);
  cpSync(folder, copy, { recursive: true });
  writeFileSync(join(copy, store, 'CURRENT'), 'MANIFEST-999999\n');
  return copy;
}

/** The one line a command said on standard error: no stack trace, the reason and where. */
function oneLine(run: { stderr: string }): string {
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

describe('a data folder whose store cannot be opened', () => {
  it('is refused in one line naming the store, by commands that read it and by start, none hanging; status and projections list show what the tables hold', async () => {
    // Prepare: a folder a pipeline rated a season in, and copies with one store damaged each.
    const games = tmp.path('games.csv');
    const folder = tmp.path('rated');
    await runCli(['generate', '--team-count', '6', '--games-per-team', '2', '--out', games]);
    const rated = await runCli(['start', games, '--data-dir', folder, '--json']);
    expect(rated.code, rated.stderr).toBe(0);
    const tables = damaged(folder, 'dynamodb');
    const stream = damaged(folder, 'kinesis');

    // Act
    const sagas = await runCli(['saga', 'list', '--data-dir', tables]);
    const status = await runCli(['status', '--data-dir', stream]);
    const statusJson = await runCli(['status', '--data-dir', stream, '--json']);
    const projections = await runCli(['projections', 'list', '--data-dir', stream]);
    const start = await runCli(['start', '--data-dir', stream, '--season', '2026']);
    // What reads the tables only does not need the stream.
    const sagasOfStream = await runCli(['saga', 'list', '--data-dir', stream, '--json']);

    // Assess
    expect(sagas.code).toBe(1);
    const missing = (dir: string) =>
      `${dir}: the MANIFEST that CURRENT names is missing; LevelDB cannot tell which files make the store, so it was left as it is \\(restore the folder from a copy\\)`;
    expect(oneLine(sagas)).toMatch(
      new RegExp(
        `^matchstream: the tables' store is damaged: ${missing(`${tables}/dynamodb/MANIFEST-999999`)}`,
      ),
    );
    expect(start.code).toBe(1);
    expect(oneLine(start)).toMatch(
      new RegExp(
        `^matchstream: the change stream's store is damaged: ${missing(`${stream}/kinesis/MANIFEST-999999`)}`,
      ),
    );
    // status and projections list show what the tables hold, the lag as unknown, and fail
    // naming the store.
    for (const run of [status, statusJson, projections]) {
      expect(run.code).toBe(1);
      expect(oneLine(run)).toMatch(
        new RegExp(
          `^matchstream: the change stream cannot be read, so the consumers' lag is unknown: the change stream's store is damaged: ${missing(`${stream}/kinesis/MANIFEST-999999`)}`,
        ),
      );
    }
    expect(status.stdout).toMatch(/^ {2}events {7}\d+ stored \(/m);
    expect(status.stdout).toMatch(/^ {2}consumers {4}unknown: the change stream cannot be read$/m);
    expect(status.stdout).toMatch(/^ {2}last saga {4}\S+ completed$/m);
    const report = JSON.parse(statusJson.stdout) as {
      events: { total: number };
      consumers: unknown;
      stream_unreadable: string;
      last_saga: { status: string };
    };
    expect(report.consumers).toBeNull();
    expect(report.stream_unreadable).toContain(`${stream}/kinesis/MANIFEST-999999`);
    expect(report.events.total).toBe(JSON.parse(rated.stdout).events_appended);
    expect(report.last_saga.status).toBe('completed');
    expect(projections.stdout).toMatch(/^matches \(v\d+\): generation 1 active$/m);
    expect(projections.stdout).toMatch(
      /^ +\* +g1 +live +matchstream-rm-matches-v\d+ +v\d+ +lag unknown$/m,
    );
    expect(projections.stdout).not.toContain('no checkpoint yet');
    expect(sagasOfStream.code, sagasOfStream.stderr).toBe(0);
    expect((JSON.parse(sagasOfStream.stdout) as { sagas: unknown[] }).sagas).toHaveLength(1);
  }, 120_000);

  it('is refused, and left as it is, when a write-ahead log holds a damaged record, where LevelDB would drop it without a word', async () => {
    // Prepare: a season rated in a folder (its stores not opened since, so their writes are in
    // their logs), and a copy with bytes of the tables' log overwritten in its middle.
    const games = tmp.path('log-games.csv');
    const folder = tmp.path('log-rated');
    await runCli(['generate', '--team-count', '40', '--games-per-team', '6', '--out', games]);
    const rated = await runCli(['start', games, '--data-dir', folder, '--quiet']);
    expect(rated.code, rated.stderr).toBe(0);
    const copy = tmp.path('log-damaged');
    cpSync(folder, copy, { recursive: true });
    const log = join(copy, 'dynamodb', '000003.log');
    const bytes = readFileSync(log);
    bytes.fill(0xff, 500_000, 500_064);
    writeFileSync(log, bytes);

    // Act
    const status = await runCli(['status', '--data-dir', copy]);
    const sagas = await runCli(['saga', 'list', '--data-dir', copy]);

    // Assess: the record named is the one holding byte 500,000 (its data, or its header if
    // one starts there), so it starts in that byte's 32 KiB block (at 15 × 32 KiB), at or
    // before it; the log is what it was.
    const escaped = log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const refusal = new RegExp(
      `^matchstream: the tables' store is damaged: ${escaped}: (a record fails its checksum|a record of \\d+ bytes runs past its block|a record of unknown type \\d+) at byte (\\d+); opening it would drop that record and the rest of its block for good, so it was left as it is \\(restore the folder from a copy, or move that file away to open the store without anything it holds\\) \\(run with --debug for details\\)$`,
    );
    for (const run of [status, sagas]) {
      expect(run.code).toBe(1);
      const line = oneLine(run);
      expect(line).toMatch(refusal);
      const offset = Number(refusal.exec(line)?.[2]);
      expect(offset).toBeGreaterThanOrEqual(15 * 32 * 1024);
      expect(offset).toBeLessThanOrEqual(500_000);
    }
    expect(readFileSync(log).equals(bytes)).toBe(true);
  }, 120_000);

  it('is refused, and left as it is, when a table file holds a damaged block, which LevelDB would read as it is', async () => {
    // Prepare: a season rated in a folder, opened once more (LevelDB writes what its log held
    // into a table file as it opens), and a copy with one byte of that table changed.
    const games = tmp.path('table-games.csv');
    const folder = tmp.path('table-rated');
    await runCli(['generate', '--team-count', '30', '--games-per-team', '6', '--out', games]);
    const rated = await runCli(['start', games, '--data-dir', folder, '--quiet']);
    expect(rated.code, rated.stderr).toBe(0);
    const opened = await runCli(['status', '--data-dir', folder]);
    expect(opened.code, opened.stderr).toBe(0);
    const dir = join(folder, 'dynamodb');
    const [table] = readdirSync(dir).filter((f) => f.endsWith('.ldb'));
    expect(table).toBeDefined();
    const copy = tmp.path('table-damaged');
    cpSync(folder, copy, { recursive: true });
    const file = join(copy, 'dynamodb', table as string);
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    writeFileSync(file, bytes);

    // Act
    const status = await runCli(['status', '--data-dir', copy]);

    // Assess: the block named starts at or before the changed byte, within LevelDB's 4 KiB
    // blocks (a block holds at least one item, and these are under 4 KiB each); the table is
    // what it was, and the folder it came from opens as before.
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const refusal = new RegExp(
      `^matchstream: the tables' store is damaged: ${escaped}: a block fails its checksum at byte (\\d+); reading it would give wrong items, or none, without an error, so it was left as it is \\(restore the folder from a copy\\) \\(run with --debug for details\\)$`,
    );
    expect(status.code).toBe(1);
    const line = oneLine(status);
    expect(line).toMatch(refusal);
    const offset = Number(refusal.exec(line)?.[1]);
    expect(offset).toBeLessThanOrEqual(at);
    expect(offset).toBeGreaterThan(at - 8 * 1024);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect((await runCli(['status', '--data-dir', folder])).code).toBe(0);
  }, 120_000);
});
