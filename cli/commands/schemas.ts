import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { checkSchemas } from '../../schemas/checkSchemas.js';
import { defaultSchemasDir, SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { CliError, EXIT } from '../exitCodes.js';
import { wholeNumber } from '../options.js';
import { reportError } from '../output/errors.js';
import { counted } from '../output/plural.js';
import { formatTable } from '../output/table.js';
import { write } from '../write.js';

interface DirFlags {
  readonly dir: string;
}

const EVENT_TYPE = /^[A-Z][A-Za-z0-9]*$/;
export const DEFAULT_FIXTURES_DIR = 'test/fixtures/events';

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
  ).action(async (flags: DirFlags & { json?: boolean }) => {
    const registry = SchemaRegistry.fromDirectory(flags.dir);
    const violations = checkSchemas(registry);
    if (flags.json) {
      const listed = violations.map((v) => ({ event_type: v.eventType, message: v.message }));
      await write(
        `${JSON.stringify({ ok: violations.length === 0, violations: listed }, null, 2)}\n`,
      );
    } else {
      for (const v of violations) reportError(v.message);
      if (violations.length === 0) {
        const count = registry.eventTypes().reduce((n, t) => n + registry.versions(t).length, 0);
        await write(
          `schemas ok: ${counted(registry.eventTypes().length, 'event type')}, ${counted(count, 'version')}\n`,
        );
      }
    }
    if (violations.length > 0) {
      throw new CliError(counted(violations.length, 'compatibility violation'), EXIT.FAILURE);
    }
  });

  dirOption(
    schemas
      .command('list')
      .description('every event type with its versions, mode and fingerprint')
      .option('--json', 'print JSON'),
  ).action(async (flags: DirFlags & { json?: boolean }) => {
    const registry = SchemaRegistry.fromDirectory(flags.dir);
    const rows = registry.eventTypes().map((eventType) => {
      const latest = registry.latest(eventType);
      return {
        event_type: eventType,
        versions: registry.versions(eventType).length,
        latest: latest.version,
        mode: registry.mode(eventType),
        upcasters: [...registry.upcastVersions(eventType)].map((v) => `v${v - 1}→v${v}`),
        fingerprint: latest.fingerprint,
      };
    });
    if (flags.json) {
      await write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    const lines = formatTable([
      ['event type', 'latest', 'mode', 'fingerprint', 'upcasters'],
      ...rows.map((r) => [
        r.event_type,
        `v${r.latest}`,
        r.mode,
        r.fingerprint.slice(0, 16),
        r.upcasters.join(' '),
      ]),
    ]);
    await write(`${lines.join('\n')}\n`);
  });

  dirOption(
    schemas
      .command('show')
      .description('print a schema (the latest version unless --version)')
      .argument('<type>', 'event type, e.g. MatchRecorded')
      .option('--version <n>', 'schema version', wholeNumber(1, 10_000))
      .option('--canonical', 'print the Avro Parsing Canonical Form instead')
      .option('--json', 'print the schema with its fingerprint and canonical form as JSON'),
  ).action(
    async (
      type: string,
      flags: DirFlags & { version?: number; canonical?: boolean; json?: boolean },
    ) => {
      const registry = SchemaRegistry.fromDirectory(flags.dir);
      const schema =
        flags.version === undefined ? registry.latest(type) : registry.get(type, flags.version);
      if (flags.json) {
        const doc = {
          event_type: schema.eventType,
          version: schema.version,
          fingerprint: schema.fingerprint,
          canonical: schema.canonical,
          file: schema.file,
          schema: schema.schema,
        };
        await write(`${JSON.stringify(doc, null, 2)}\n`);
      } else if (flags.canonical) {
        await write(`${schema.canonical}\n`);
      } else {
        process.stderr.write(
          `${schema.eventType} v${schema.version}, fingerprint ${schema.fingerprint}\n`,
        );
        await write(`${JSON.stringify(schema.schema, null, 2)}\n`);
      }
    },
  );

  dirOption(
    schemas
      .command('new')
      .description(
        'add the next version of an event type as a copy of the latest (or v1 of a new type)',
      )
      .argument('<type>', 'event type, e.g. MatchRecorded'),
  ).action(async (type: string, flags: DirFlags) => {
    if (!EVENT_TYPE.test(type))
      throw new CliError(`"${type}" is not an event type name (PascalCase)`, EXIT.USAGE);
    const registry = SchemaRegistry.fromDirectory(flags.dir);
    const known = registry.eventTypes().includes(type);
    const version = known ? registry.latest(type).version + 1 : 1;
    const folder = join(flags.dir, type);
    const file = join(folder, `v${version}.avsc`);
    if (existsSync(file)) throw new CliError(`${file} exists already`);
    mkdirSync(folder, { recursive: true });
    const schema = known
      ? JSON.parse(readFileSync(registry.latest(type).file, 'utf8'))
      : {
          type: 'record',
          name: type,
          namespace: 'matchstream.events',
          doc: `What happened, in one sentence.`,
          fields: [{ name: 'id', type: 'string' }],
        };
    writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
    const steps = [
      `wrote ${file}${known ? ` (a copy of v${version - 1})` : ''}`,
      '',
      'Next:',
      `  1. Edit ${file}. New fields need a default so v${version} can read older data`,
      `     (the mode of ${type} is ${registry.mode(type)}).`,
      '  2. Run: matchstream schemas check',
      '  3. Run: npm run schemas:types, then npm run typecheck: it lists the code the change touches.',
      `  4. If the meaning changed and Avro resolution cannot bridge it, add an upcaster`,
      `     v${Math.max(version - 1, 1)} → v${version} in schemas/upcasters/ and list it in schemas/upcasters/index.ts.`,
      `  5. Add the fixture of v${version}: matchstream schemas fixture ${type} --version ${version} --data example.json`,
      '  6. npm test, deploy, then rebuild the read models that use this event.',
      '',
    ];
    await write(steps.join('\n'));
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
      .option('--fixtures <dir>', 'fixture folder', DEFAULT_FIXTURES_DIR)
      .option(
        '--force',
        "replace an existing fixture (only for a version never released: a stored version's bytes never change)",
      ),
  ).action(
    async (
      type: string,
      flags: DirFlags & { version: number; data: string; fixtures: string; force?: boolean },
    ) => {
      const file = join(flags.fixtures, type, `v${flags.version}.json`);
      // A fixture pins the bytes a released version writes; replacing it would hide a change.
      if (!flags.force && existsSync(file))
        throw new CliError(
          `${file} exists already: the fixture of a written version never changes (--force replaces it, for a version not yet released)`,
        );
      const registry = SchemaRegistry.fromDirectory(flags.dir);
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(flags.data === '-' ? 0 : flags.data, 'utf8'));
      } catch (error) {
        throw new CliError(
          `--data ${flags.data}: not a JSON file: ${error instanceof Error ? error.message : String(error)}`,
          EXIT.USAGE,
        );
      }
      const encoded = registry.encode(type, data, flags.version);
      const fixture = {
        event_type: type,
        version: flags.version,
        fingerprint: encoded.fingerprint,
        avro_base64: encoded.bytes.toString('base64'),
        data: registry.get(type, flags.version).type.fromBuffer(encoded.bytes),
      };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(fixture, null, 2)}\n`);
      await write(`wrote ${file}\n`);
    },
  );
}
