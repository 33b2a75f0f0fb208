import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tempDir.js';

const tmp = tempDir();

/**
 * Fields whose keys are data (event types, days, consumers, buses, streams, saga steps), not
 * names, and how many levels of keys are data (`by_day` is day, then event type).
 */
const KEYED_BY_DATA = new Map([
  ['by_type', 1],
  ['by_day', 2],
  ['by_consumer', 1],
  ['events_applied', 1],
  ['events_skipped', 1],
  ['events_filled', 1],
  ['published', 1],
  ['poisoned_streams', 1],
  ['compensations', 1],
]);
/** Fields that hold a document of another standard (an Avro schema), named by it. */
const FOREIGN = new Set(['schema']);
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Every field name of a JSON value not in snake_case, with its path. */
function notSnake(value: unknown, path = '$', dataLevels = 0): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => notSnake(v, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => {
    if (dataLevels > 0) return notSnake(v, `${path}.*`, dataLevels - 1);
    if (FOREIGN.has(key)) return [];
    return [
      ...(SNAKE.test(key) ? [] : [`${path}.${key}`]),
      ...notSnake(v, `${path}.${key}`, KEYED_BY_DATA.get(key) ?? 0),
    ];
  });
}

describe('JSON outputs', () => {
  it('name every field in snake_case, in every command', async () => {
    // Prepare: a pipeline run on a data folder, and the files the commands read.
    const data = tmp.path('data');
    const games = tmp.path('games.csv');
    const teams = tmp.file('teams.csv', 'team,conference,division\nA,East,I\nB,East,I\n');
    const events = tmp.path('events.jsonl');
    const generated = await runCli([
      'generate',
      '--team-count',
      '6',
      '--games-per-team',
      '2',
      '--out',
      games,
      '--json',
    ]);
    const started = await runCli(['start', '--games', games, '--data-dir', data, '--json']);
    const sagaId = JSON.parse(started.stdout).saga.id as string;

    // Act
    const outputs: Record<string, string> = {
      generate: generated.stdout,
      start: started.stdout,
    };
    const commands: Record<string, string[]> = {
      rpi: ['rpi', games, '--format', 'json'],
      status: ['status', '--data-dir', data, '--json'],
      'projections list': ['projections', 'list', '--data-dir', data, '--json'],
      'saga list': ['saga', 'list', '--data-dir', data, '--json'],
      'saga show': ['saga', 'show', sagaId, '--data-dir', data, '--json'],
      replay: ['replay', '--to', `file:${events}`, '--data-dir', data, '--json', '--no-progress'],
      inspect: ['inspect', events],
      'teams import': ['teams', 'import', teams, '--data-dir', data, '--json', '--no-progress'],
      'teams update': ['teams', 'update', 'A', '--region', 'North', '--data-dir', data, '--json'],
      ingest: ['ingest', games, '--data-dir', data, '--json', '--no-progress'],
      'schemas list': ['schemas', 'list', '--json'],
      'schemas show': ['schemas', 'show', 'MatchRecorded', '--json'],
      'schemas check': ['schemas', 'check', '--json'],
    };
    for (const [name, args] of Object.entries(commands)) {
      const run = await runCli(args);
      expect({ name, code: run.code, stderr: run.stderr }).toMatchObject({ name, code: 0 });
      outputs[name] = run.stdout;
    }

    // Assess: each output (a document, or JSON Lines) has only snake_case names.
    for (const [name, text] of Object.entries(outputs)) {
      const documents =
        text.trimStart().startsWith('{\n') || text.trimStart().startsWith('[')
          ? [JSON.parse(text)]
          : text
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l));
      expect(documents.length, name).toBeGreaterThan(0);
      expect({ name, fields: documents.flatMap((d) => notSnake(d)) }).toEqual({ name, fields: [] });
    }
  }, 180_000);
});
