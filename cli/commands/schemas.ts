import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultSchemasDir } from '../../schemas/schemasDir.js';
import type { DirFlags, FixtureFlags, JsonFlags, ShowFlags } from '../actions/schemas.js';
import { wholeNumber } from '../options.js';

/**
 * The project's `test/fixtures/events`, beside its schema folder, where the fixture tests read:
 * not one under the folder the command runs in, which would hold a copy the tests never see
 * and let a released version's fixture be written again.
 */
function defaultFixturesDir(): string {
  return resolve(defaultSchemasDir(), '..', '..', 'test', 'fixtures', 'events');
}

export function registerSchemas(program: Command): void {
  const schemas = program
    .command('schemas')
    .description('the Avro schemas of the event catalog: list, show, check, add versions')
    .addHelpText(
      'after',
      `
Schemas live in schemas/avro/<EventType>/v<N>.avsc. Stored events are decoded with their
writer schema (by fingerprint), resolved by the Avro rules and upcast to the latest version.
Compatibility modes (schemas/avro/compatibility.json, default BACKWARD_ALL): NONE, BACKWARD,
BACKWARD_ALL, FORWARD, FORWARD_ALL, FULL, FULL_ALL.`,
    );
  const dirOption = (command: Command) =>
    command.option('--dir <dir>', 'schema folder', defaultSchemasDir());

  dirOption(
    schemas
      .command('check')
      .description(
        'check every event type against its compatibility mode; exit 1 listing every violation',
      )
      .option('--json', 'print the violations as JSON'),
  ).action(async (flags: JsonFlags) => {
    const { runSchemasCheck } = await import('../actions/schemas.js');
    await runSchemasCheck(flags);
  });

  dirOption(
    schemas
      .command('list')
      .description('every event type with its versions, mode and fingerprint')
      .option('--json', 'print JSON'),
  ).action(async (flags: JsonFlags) => {
    const { runSchemasList } = await import('../actions/schemas.js');
    await runSchemasList(flags);
  });

  dirOption(
    schemas
      .command('show')
      .description('print a schema (the latest version unless --version)')
      .argument('<type>', 'event type, e.g. MatchRecorded')
      .option('--version <n>', 'schema version', wholeNumber(1, 10_000))
      .option('--canonical', 'print the Avro Parsing Canonical Form instead')
      .option('--json', 'print the schema with its fingerprint and canonical form as JSON'),
  ).action(async (type: string, flags: ShowFlags) => {
    const { runSchemasShow } = await import('../actions/schemas.js');
    await runSchemasShow(type, flags);
  });

  dirOption(
    schemas
      .command('new')
      .description(
        'add the next version of an event type as a copy of the latest (or v1 of a new type)',
      )
      .argument('<type>', 'event type, e.g. MatchRecorded'),
  ).action(async (type: string, flags: DirFlags) => {
    const { runSchemasNew } = await import('../actions/schemas.js');
    await runSchemasNew(type, flags);
  });

  dirOption(
    schemas
      .command('fixture')
      .description('write the stored-bytes fixture of a schema version from example data (JSON)')
      .argument('<type>', 'event type')
      .requiredOption(
        '--version <n>',
        'schema version the data is written with',
        wholeNumber(1, 10_000),
      )
      .requiredOption('--data <file>', 'the example data as a JSON object ("-" for stdin)')
      .option('--fixtures <dir>', 'fixture folder', defaultFixturesDir())
      .option(
        '--force',
        "replace an existing fixture (only for a version never released: a stored version's bytes never change)",
      ),
  ).action(async (type: string, flags: FixtureFlags) => {
    const { runSchemasFixture } = await import('../actions/schemas.js');
    await runSchemasFixture(type, flags);
  });
}
