import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { closestName } from '../../feeds/closestName.js';
import { checkSchemas } from '../../schemas/checkSchemas.js';
import { type RegisteredSchema, SchemaRegistry } from '../../schemas/SchemaRegistry.js';
import { defaultSchemasDir } from '../../schemas/schemasDir.js';
import { CliError, EXIT } from '../exitCodes.js';
import { reportError } from '../output/errors.js';
import { counted } from '../output/plural.js';
import { formatTable } from '../output/table.js';
import { write } from '../write.js';

export interface DirFlags {
  readonly dir: string;
}

/** The flags of `check` and `list`. */
export interface JsonFlags extends DirFlags {
  readonly json?: boolean;
}

export interface ShowFlags extends DirFlags {
  readonly version?: number;
  readonly canonical?: boolean;
  readonly json?: boolean;
}

export interface FixtureFlags extends DirFlags {
  readonly version: number;
  readonly data: string;
  readonly fixtures: string;
  readonly force?: boolean;
}

const EVENT_TYPE = /^[A-Z][A-Za-z0-9]*$/;

/** `schemas check`: every event type against its compatibility mode. */
export async function runSchemasCheck(flags: JsonFlags): Promise<void> {
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
}

/** `schemas list`: every event type with its versions, mode and fingerprint. */
export async function runSchemasList(flags: JsonFlags): Promise<void> {
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
}

/**
 * The schema of `type` at `version` (the latest without one). A type or a version the folder
 * does not have is a command line naming nothing, refused (exit 2) with what there is.
 */
function schemaNamed(
  registry: SchemaRegistry,
  type: string,
  version: number | undefined,
): RegisteredSchema {
  const types = registry.eventTypes();
  if (!types.includes(type)) {
    const meant =
      types.find((t) => t.toLowerCase() === type.toLowerCase()) ?? closestName(type, types);
    throw new CliError(
      `unknown event type "${type}": ${meant ? `did you mean "${meant}"? ` : ''}"matchstream schemas list" names the ${types.length} there are`,
      EXIT.USAGE,
    );
  }
  const latest = registry.latest(type);
  if (version === undefined) return latest;
  if (version > latest.version)
    throw new CliError(
      `${type} has no version ${version}: ${latest.version === 1 ? 'its only version is 1' : `its versions are 1 to ${latest.version}`}`,
      EXIT.USAGE,
    );
  return registry.get(type, version);
}

/** `schemas show`: a schema, the latest version unless `--version`. */
export async function runSchemasShow(type: string, flags: ShowFlags): Promise<void> {
  const registry = SchemaRegistry.fromDirectory(flags.dir);
  const schema = schemaNamed(registry, type, flags.version);
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
}

/** `schemas new`: the next version of an event type, a copy of the latest. */
export async function runSchemasNew(type: string, flags: DirFlags): Promise<void> {
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
  // The next commands read the folder written in: without it they would read the project's.
  const inDir = resolve(flags.dir) === resolve(defaultSchemasDir()) ? '' : ` --dir ${flags.dir}`;
  const fixture = `Add the fixture of v${version}: matchstream schemas fixture ${type} --version ${version} --data example.json${inDir}`;
  // A new type has no older data to read and no version before it to upcast from.
  const steps = known
    ? [
        `wrote ${file} (a copy of v${version - 1})`,
        '',
        'Next:',
        `  1. Edit ${file}. New fields need a default so v${version} can read older data`,
        `     (the mode of ${type} is ${registry.mode(type)}).`,
        `  2. Run: matchstream schemas check${inDir}`,
        '  3. Run: npm run schemas:types, then npm run typecheck: it lists the code the change touches.',
        `  4. If the meaning changed and Avro resolution cannot bridge it, add an upcaster`,
        `     v${version - 1} → v${version} in schemas/upcasters/ and list it in schemas/upcasters/index.ts.`,
        `  5. ${fixture}`,
        '  6. npm test, deploy, then rebuild the read models that use this event.',
        '',
      ]
    : [
        `wrote ${file}`,
        '',
        'Next:',
        `  1. Edit ${file}: its doc and its fields.`,
        `  2. Run: matchstream schemas check${inDir}`,
        '  3. Run: npm run schemas:types, then npm run typecheck: it lists every read model, bus handler',
        "     and fold, and the bus router's table, each of which must say what it does with the new type.",
        `  4. ${fixture}`,
        '  5. npm test, then deploy.',
        '',
      ];
  await write(steps.join('\n'));
}

/** `schemas fixture`: the stored-bytes fixture of a schema version. */
export async function runSchemasFixture(type: string, flags: FixtureFlags): Promise<void> {
  const file = join(flags.fixtures, type, `v${flags.version}.json`);
  // A fixture pins the bytes a released version writes; replacing it would hide a change.
  if (!flags.force && existsSync(file))
    throw new CliError(
      `${file} exists already: the fixture of a written version never changes (--force replaces it, for a version not yet released)`,
    );
  const registry = SchemaRegistry.fromDirectory(flags.dir);
  schemaNamed(registry, type, flags.version);
  let text: string;
  try {
    text = readFileSync(flags.data === '-' ? 0 : flags.data, 'utf8');
  } catch (error) {
    const reason =
      error instanceof Error && 'code' in error && error.code === 'ENOENT'
        ? 'no such file'
        : error instanceof Error
          ? error.message
          : String(error);
    throw new CliError(`--data ${flags.data}: cannot read: ${reason}`, EXIT.FAILURE, {
      cause: error,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
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
}
