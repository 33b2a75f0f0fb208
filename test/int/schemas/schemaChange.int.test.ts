import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { GENERATED_DIR, generateEventTypes, SCHEMAS_DIR } from '../../../tools/schemaTypes.js';
import { tempDir } from '../../support/tempDir.js';

const tmp = tempDir();
const root = resolve(GENERATED_DIR, '../..');

/** A copy of the project's schemas with one field of the latest version of a type renamed. */
function schemasWithRename(eventType: string, from: string, to: string): string {
  const dir = tmp.path('avro');
  cpSync(SCHEMAS_DIR, dir, { recursive: true });
  const latest = readdirSync(join(dir, eventType))
    .map((f) => Number(/^v(\d+)\.avsc$/.exec(f)?.[1]))
    .reduce((a, b) => Math.max(a, b));
  const file = join(dir, eventType, `v${latest}.avsc`);
  const schema = JSON.parse(readFileSync(file, 'utf8')) as { fields: { name: string }[] };
  const field = schema.fields.find((f) => f.name === from);
  if (!field) throw new Error(`${eventType} v${latest} has no field ${from}`);
  field.name = to;
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  return dir;
}

/** A copy of the project's schemas with one more event type. */
function schemasWithNewType(eventType: string, fields: readonly object[]): string {
  const dir = tmp.path('avro-new-type');
  cpSync(SCHEMAS_DIR, dir, { recursive: true });
  mkdirSync(join(dir, eventType));
  const schema = { type: 'record', name: eventType, namespace: 'matchstream.events', fields };
  writeFileSync(join(dir, eventType, 'v1.avsc'), `${JSON.stringify(schema, null, 2)}\n`);
  return dir;
}

/**
 * What `npm run typecheck` says of the shipped code (the files of tsconfig.build.json) when
 * `schemas/generated/` holds these files instead of the checked-in ones: one line per error,
 * `file: message`.
 */
function typeCheckWith(generated: ReadonlyMap<string, string>): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.build.json'),
    { noEmit: true, incremental: false },
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (!config) throw new Error('tsconfig.build.json cannot be read');
  const options = { ...config.options, noEmit: true, incremental: false };
  delete options.tsBuildInfoFile;
  const replaced = (fileName: string) => {
    const path = relative(GENERATED_DIR, resolve(fileName));
    return path.startsWith('..') ? undefined : generated.get(path);
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (fileName) => replaced(fileName) ?? readFile(fileName);
  host.fileExists = (fileName) => replaced(fileName) !== undefined || fileExists(fileName);
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (name) => {
    const path = relative(GENERATED_DIR, resolve(name));
    const generatedDir =
      !path.startsWith('..') && [...generated.keys()].some((k) => k.startsWith(`${path}/`));
    return generatedDir || (directoryExists?.(name) ?? true);
  };
  host.getSourceFile = (fileName, language, onError, shouldCreate) => {
    const text = replaced(fileName);
    return text === undefined
      ? getSourceFile(fileName, language, onError, shouldCreate)
      : ts.createSourceFile(fileName, text, language);
  };
  const program = ts.createProgram(config.fileNames, options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const file = d.file ? relative(root, d.file.fileName) : '(program)';
    return `${file}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe('a schema change the compiler shows', () => {
  it('renaming a field of the latest MatchRecorded and regenerating fails the type check where the field is used', () => {
    // Prepare: the walk-through's first steps on a copy: edit the latest schema, regenerate.
    const generated = generateEventTypes(
      schemasWithRename('MatchRecorded', 'home_goals', 'home_score'),
    );

    // Act
    const errors = typeCheckWith(generated);

    // Assess: the read models, the write side and the saga's calculation are listed...
    const files = new Set(errors.map((e) => e.slice(0, e.indexOf(':'))));
    expect([...files]).toEqual(
      expect.arrayContaining([
        'projections/readModels/standings.ts',
        'projections/readModels/matches.ts',
        'ingest/matchEvents.ts',
      ]),
    );
    // ...and every error is the renamed field's doing.
    for (const error of errors) expect(error).toMatch(/home_goals|home_score/);
  }, 120_000);

  it('a new event type fails the type check at every place that must decide about it', () => {
    // Prepare
    const generated = generateEventTypes(
      schemasWithNewType('MatchPostponed', [
        { name: 'match_id', type: 'string' },
        { name: 'postponed_to', type: { type: 'int', logicalType: 'date' } },
      ]),
    );

    // Act
    const errors = typeCheckWith(generated);

    // Assess: every read model but the event counts (which take every type alike) and the saga
    // read model (which takes the `Saga*` types), every bus handler, the bus router's table, the
    // write side's folds, the season a stream belongs to: each says the type is not handled.
    const files = new Set(errors.map((e) => e.slice(0, e.indexOf(':'))));
    expect([...files].sort()).toEqual([
      'ingest/matchEvents.ts',
      'ingest/seasons.ts',
      'ingest/teamMetadata.ts',
      'projections/readModels/matches.ts',
      'projections/readModels/rankings.ts',
      'projections/readModels/standings.ts',
      'projections/readModels/teams.ts',
      'sagas/handlers/CalculationEventHandler.ts',
      'sagas/handlers/MatchEventHandler.ts',
      'sagas/handlers/MetadataEventHandler.ts',
      'stream/buses/domains.ts',
    ]);
    for (const error of errors) expect(error).toMatch(/MatchPostponed/);
  }, 120_000);
});
