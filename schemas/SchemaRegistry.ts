import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { COMPATIBILITY_MODES, type CompatibilityMode } from './compatibility.js';
import { LOGICAL_TYPES } from './logicalTypes.js';
import { SchemaError } from './SchemaError.js';
import { defaultSchemasDir } from './schemasDir.js';
import { type SchemaUpcaster, UPCASTERS, type UpcastContext } from './upcasters/index.js';

// Tests and chaos scenarios import it from here too.
export { defaultSchemasDir } from './schemasDir.js';

/** One version of one event type's schema, parsed once. */
export interface RegisteredSchema {
  readonly eventType: string;
  readonly version: number;
  readonly type: avro.Type;
  /** The schema as written in its file. */
  readonly schema: avro.Schema;
  /** Avro Parsing Canonical Form. */
  readonly canonical: string;
  /** SHA-256 of the canonical form, hex. */
  readonly fingerprint: string;
  readonly file: string;
}

/** Data encoded with a writer schema. */
export interface EncodedData {
  readonly version: number;
  readonly fingerprint: string;
  readonly bytes: Buffer;
}

/** Stored bytes and what is needed to decode them (and to say which event failed). */
/** The bytes of a decode plan lookup, which reads none. */
const NO_BYTES = new Uint8Array();

export interface StoredData extends UpcastContext {
  readonly eventType: string;
  readonly fingerprint: string;
  readonly bytes: Uint8Array;
}

export interface DecodedData {
  /**
   * The data at the latest version of its event type: of the type generated from that schema
   * (`EventData`), which the codec (`CommitCodec`) gives it.
   */
  readonly data: unknown;
  readonly version: number;
  /** The version the data was written with. */
  readonly writerVersion: number;
}

/** The compatibility rules of a schema folder: a default mode and per-type overrides. */
export interface CompatibilityConfig {
  readonly default: CompatibilityMode;
  readonly overrides: Readonly<Record<string, CompatibilityMode>>;
}

/** How data written with one schema reaches the latest version: resolve, upcast, resolve... */
type Step =
  | {
      readonly kind: 'resolve';
      readonly from: RegisteredSchema;
      readonly to: RegisteredSchema;
      readonly resolver: avro.Resolver;
      /**
       * Brings a decoded value of `from` to `to` in memory, where every field `to` keeps has
       * the same type in both and every new field a default; undefined otherwise (the value
       * is then encoded with `from` and read back through `resolver`).
       */
      readonly convert: ((value: unknown) => unknown) | undefined;
    }
  | {
      readonly kind: 'upcast';
      readonly upcaster: SchemaUpcaster;
      readonly output: RegisteredSchema;
    };

interface Plan {
  readonly writer: RegisteredSchema;
  /** How the bytes are read: with the writer's type, or into a later version through a resolver. */
  readonly read: {
    readonly type: avro.Type;
    readonly resolver?: avro.Resolver;
    readonly version: number;
  };
  /** What follows the read, in order. */
  readonly after: readonly Step[];
}

const FILE = /^v([1-9]\d*)\.avsc$/;

/**
 * Every Avro schema of the event catalog, parsed once at start-up and identified both by
 * (event type, version) and by the SHA-256 fingerprint of its canonical form. Encodes new
 * data with the latest version; decodes stored data by its writer fingerprint through Avro
 * schema resolution and the upcasters to the latest version, with the plan for each writer
 * built once and cached.
 */
export class SchemaRegistry {
  private readonly byType = new Map<string, RegisteredSchema[]>();
  private readonly byFingerprint = new Map<string, RegisteredSchema>();
  private readonly upcasters = new Map<string, SchemaUpcaster>();
  private readonly plans = new Map<string, Plan>();

  constructor(
    schemas: readonly RegisteredSchema[],
    upcasters: readonly SchemaUpcaster[],
    readonly compatibility: CompatibilityConfig = { default: 'BACKWARD_ALL', overrides: {} },
  ) {
    for (const s of schemas) {
      const clash = this.byFingerprint.get(s.fingerprint);
      if (clash) {
        throw new SchemaError(
          'SCHEMA_INVALID',
          `${s.eventType} v${s.version} has the same canonical form as ${clash.eventType} v${clash.version}; a new version must change the schema`,
          { file: s.file },
        );
      }
      this.byFingerprint.set(s.fingerprint, s);
      const list = this.byType.get(s.eventType) ?? [];
      list.push(s);
      this.byType.set(s.eventType, list);
    }
    for (const [eventType, list] of this.byType) {
      list.sort((a, b) => a.version - b.version);
      list.forEach((s, i) => {
        if (s.version !== i + 1) {
          throw new SchemaError(
            'SCHEMA_INVALID',
            `${eventType} has v${s.version} but no v${i + 1}`,
            {
              file: s.file,
            },
          );
        }
      });
    }
    for (const u of upcasters) {
      if (!this.byType.get(u.eventType)?.[u.fromVersion]) {
        throw new SchemaError(
          'SCHEMA_INVALID',
          `upcaster ${u.eventType} v${u.fromVersion} → v${u.fromVersion + 1}: there is no such version`,
        );
      }
      this.upcasters.set(key(u.eventType, u.fromVersion + 1), u);
    }
  }

  /** The registry of a schema folder (default: the project's `schemas/avro`). */
  static fromDirectory(
    dir = defaultSchemasDir(),
    upcasters: readonly SchemaUpcaster[] = UPCASTERS,
  ): SchemaRegistry {
    return new SchemaRegistry(loadSchemas(dir), upcasters, loadCompatibility(dir));
  }

  eventTypes(): string[] {
    return [...this.byType.keys()].sort();
  }

  /** Every version of an event type, oldest first. */
  versions(eventType: string): readonly RegisteredSchema[] {
    const list = this.byType.get(eventType);
    if (!list) {
      throw new SchemaError('UNKNOWN_EVENT_TYPE', `unknown event type "${eventType}"`, {
        eventType,
      });
    }
    return list;
  }

  latest(eventType: string): RegisteredSchema {
    const list = this.versions(eventType);
    return list[list.length - 1] as RegisteredSchema;
  }

  get(eventType: string, version: number): RegisteredSchema {
    const found = this.versions(eventType)[version - 1];
    if (!found) {
      throw new SchemaError('UNKNOWN_VERSION', `${eventType} has no version ${version}`, {
        eventType,
        version,
      });
    }
    return found;
  }

  find(fingerprint: string): RegisteredSchema | undefined {
    return this.byFingerprint.get(fingerprint);
  }

  /** The compatibility mode declared for an event type. */
  mode(eventType: string): CompatibilityMode {
    return this.compatibility.overrides[eventType] ?? this.compatibility.default;
  }

  /** Versions that an upcaster reaches from the version before (the breaks in Avro compatibility). */
  upcastVersions(eventType: string): Set<number> {
    return new Set(
      this.versions(eventType)
        .map((s) => s.version)
        .filter((v) => this.upcasters.has(key(eventType, v))),
    );
  }

  /**
   * Versions of an event type that the latest cannot read: the Avro resolution across a run
   * of versions fails and no upcaster bridges it. Empty when every stored version decodes.
   */
  unreadableVersions(eventType: string): { version: number; message: string }[] {
    const problems: { version: number; message: string }[] = [];
    for (const writer of this.versions(eventType)) {
      try {
        this.stepsFrom(writer, { eventId: '-', eventType, fingerprint: writer.fingerprint });
      } catch (error) {
        problems.push({ version: writer.version, message: message(error) });
      }
    }
    return problems;
  }

  /**
   * Encodes data with a version's schema (the latest by default). Invalid data is refused
   * with the paths of the offending fields, never their values.
   */
  encode(eventType: string, data: unknown, version?: number): EncodedData {
    const schema = version === undefined ? this.latest(eventType) : this.get(eventType, version);
    const invalid: string[] = [];
    const valid = schema.type.isValid(data, {
      errorHook: (path: string[]) => invalid.push(path.join('.') || '(root)'),
    });
    if (!valid) {
      throw new SchemaError(
        'INVALID_DATA',
        `data does not match the schema at ${[...new Set(invalid)].join(', ')}`,
        { eventType, version: schema.version },
      );
    }
    return {
      version: schema.version,
      fingerprint: schema.fingerprint,
      bytes: schema.type.toBuffer(data),
    };
  }

  /**
   * Throws the `SchemaError` that decoding data of this type and writer fingerprint would
   * throw before reading a byte (unknown type or fingerprint, a fingerprint of another type,
   * no way to the latest version); returns when such data can be decoded. Cheap: the decode
   * plan is built once per fingerprint.
   */
  checkReadable(eventType: string, fingerprint: string, eventId: string): void {
    // The common case allocates nothing: scans call this for every event they skip.
    if (this.plans.get(fingerprint)?.writer.eventType === eventType) return;
    this.plan({ eventType, fingerprint, eventId, aggregateId: '', timestamp: '', bytes: NO_BYTES });
  }

  /** Decodes stored data to the latest version of its type. */
  decode(stored: StoredData): DecodedData {
    const plan = this.plan(stored);
    const bytes = Buffer.isBuffer(stored.bytes)
      ? stored.bytes
      : Buffer.from(stored.bytes.buffer, stored.bytes.byteOffset, stored.bytes.byteLength);
    let data: unknown;
    const { read } = plan;
    try {
      data = read.resolver
        ? read.type.fromBuffer(bytes, read.resolver)
        : read.type.fromBuffer(bytes);
    } catch (error) {
      throw new SchemaError(
        'CORRUPT_DATA',
        `cannot decode the stored bytes: ${message(error)}`,
        contextOf(stored),
        { cause: error },
      );
    }
    let version = read.version;
    for (const step of plan.after) {
      if (step.kind === 'upcast') {
        const { upcaster, output } = step;
        try {
          data = upcaster.upcast(data, stored);
        } catch (error) {
          throw new SchemaError(
            'UPCAST_FAILED',
            `cannot upcast ${stored.eventType} v${upcaster.fromVersion} to v${output.version}: ${message(error)}`,
            contextOf(stored),
            { cause: error },
          );
        }
        // An upcaster is code: what it returns is held to the schema of its version, as
        // stored data is, before anything reads it.
        const invalid = invalidPaths(output.type, data);
        if (invalid) {
          throw new SchemaError(
            'UPCAST_FAILED',
            `cannot upcast ${stored.eventType} v${upcaster.fromVersion} to v${output.version}: the upcast data does not match the schema at ${invalid}`,
            contextOf(stored),
          );
        }
        version = output.version;
      } else {
        data = step.convert
          ? step.convert(data)
          : step.to.type.fromBuffer(step.from.type.toBuffer(data), step.resolver);
        version = step.to.version;
      }
    }
    return { data, version, writerVersion: plan.writer.version };
  }

  /** The decode plan for a writer fingerprint, built once. */
  private plan(stored: StoredData): Plan {
    const cached = this.plans.get(stored.fingerprint);
    if (cached) {
      if (cached.writer.eventType !== stored.eventType) throw this.mismatch(stored, cached.writer);
      return cached;
    }
    const writer = this.byFingerprint.get(stored.fingerprint);
    const context = {
      eventId: stored.eventId,
      eventType: stored.eventType,
      fingerprint: stored.fingerprint,
    };
    if (!writer) {
      throw new SchemaError(
        'UNKNOWN_FINGERPRINT',
        'no registered schema has this fingerprint',
        context,
      );
    }
    if (writer.eventType !== stored.eventType) throw this.mismatch(stored, writer);
    const steps = this.stepsFrom(writer, context);
    const [first, ...rest] = steps;
    // Bytes are read with the writer's own type, or straight into the last version of its
    // run when resolution comes first; what follows works on decoded data.
    const plan: Plan =
      first?.kind === 'resolve'
        ? {
            writer,
            read: { type: first.to.type, resolver: first.resolver, version: first.to.version },
            after: rest,
          }
        : { writer, read: { type: writer.type, version: writer.version }, after: steps };
    this.plans.set(stored.fingerprint, plan);
    return plan;
  }

  /**
   * From a writer version to the latest: Avro resolution across each run of versions that
   * no upcaster separates, an upcaster at each break.
   */
  private stepsFrom(
    writer: RegisteredSchema,
    context: { eventId: string; eventType: string; fingerprint: string },
  ): Step[] {
    const versions = this.versions(writer.eventType);
    const steps: Step[] = [];
    let at = writer;
    for (;;) {
      let end = at.version;
      while (end < versions.length && !this.upcasters.has(key(at.eventType, end + 1))) end++;
      const to = versions[end - 1] as RegisteredSchema;
      if (to !== at) {
        steps.push({
          kind: 'resolve',
          from: at,
          to,
          resolver: this.resolver(to, at, context),
          convert: converter(at.type, to.type),
        });
      }
      if (end === versions.length) return steps;
      const upcaster = this.upcasters.get(key(at.eventType, end + 1)) as SchemaUpcaster;
      steps.push({ kind: 'upcast', upcaster, output: versions[end] as RegisteredSchema });
      at = versions[end] as RegisteredSchema;
    }
  }

  private resolver(
    reader: RegisteredSchema,
    writer: RegisteredSchema,
    context: { eventId: string; eventType: string; fingerprint: string },
  ): avro.Resolver {
    try {
      return reader.type.createResolver(writer.type);
    } catch (error) {
      throw new SchemaError(
        'MISSING_UPCASTER',
        `${writer.eventType} v${reader.version} cannot read v${writer.version} by schema resolution and no upcaster bridges them: ${message(error)}`,
        context,
        { cause: error },
      );
    }
  }

  private mismatch(stored: StoredData, writer: RegisteredSchema): SchemaError {
    return new SchemaError(
      'FINGERPRINT_MISMATCH',
      `the fingerprint belongs to ${writer.eventType} v${writer.version}, not to ${stored.eventType}`,
      { eventId: stored.eventId, eventType: stored.eventType, fingerprint: stored.fingerprint },
    );
  }
}

/** Parses every `<EventType>/v<N>.avsc` of a schema folder. */
export function loadSchemas(dir: string): RegisteredSchema[] {
  if (!existsSync(dir))
    throw new SchemaError('SCHEMA_INVALID', 'schema folder not found', { file: dir });
  const schemas: RegisteredSchema[] = [];
  for (const eventType of readdirSync(dir, { withFileTypes: true })) {
    if (!eventType.isDirectory()) continue;
    for (const name of readdirSync(join(dir, eventType.name)).sort()) {
      const match = FILE.exec(name);
      const file = join(dir, eventType.name, name);
      if (!match) {
        throw new SchemaError(
          'SCHEMA_INVALID',
          `unexpected file ${name}: schema files are named v<N>.avsc`,
          { file },
        );
      }
      schemas.push(parseSchema(eventType.name, Number(match[1]), readFileSync(file, 'utf8'), file));
    }
  }
  return schemas;
}

/** Parses one schema's text, with the project's logical types. */
export function parseSchema(
  eventType: string,
  version: number,
  text: string,
  file: string,
): RegisteredSchema {
  let schema: avro.Schema;
  let type: avro.Type;
  try {
    schema = JSON.parse(text) as avro.Schema;
    type = avro.Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES, assertLogicalTypes: true });
  } catch (error) {
    throw new SchemaError(
      'SCHEMA_INVALID',
      `not a valid Avro schema: ${message(error)}`,
      { file },
      { cause: error },
    );
  }
  if (
    type.typeName !== 'record' ||
    !(type.name === eventType || type.name?.endsWith(`.${eventType}`))
  ) {
    throw new SchemaError('SCHEMA_INVALID', `the schema must be a record named ${eventType}`, {
      file,
    });
  }
  const canonical = JSON.stringify(type.schema());
  const fingerprint = type.fingerprint('sha256').toString('hex');
  return { eventType, version, type, schema, canonical, fingerprint, file };
}

function loadCompatibility(dir: string): CompatibilityConfig {
  const file = join(dir, 'compatibility.json');
  if (!existsSync(file)) return { default: 'BACKWARD_ALL', overrides: {} };
  let config: { default?: unknown; overrides?: Record<string, unknown> };
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as typeof config;
  } catch (error) {
    throw new SchemaError(
      'SCHEMA_INVALID',
      `not valid JSON: ${message(error)}`,
      { file },
      { cause: error },
    );
  }
  const mode = (value: unknown, what: string): CompatibilityMode => {
    const found = COMPATIBILITY_MODES.find((m) => m === value);
    if (!found) {
      throw new SchemaError(
        'SCHEMA_INVALID',
        `${what}: "${String(value)}" is not one of ${COMPATIBILITY_MODES.join(', ')}`,
        { file },
      );
    }
    return found;
  };
  const overrides: Record<string, CompatibilityMode> = {};
  for (const [eventType, value] of Object.entries(config.overrides ?? {})) {
    overrides[eventType] = mode(value, `mode of ${eventType}`);
  }
  return { default: mode(config.default ?? 'BACKWARD_ALL', 'default mode'), overrides };
}

/**
 * An in-memory conversion of a record decoded with `writer` to the record `reader` would
 * decode from the same bytes, built once per pair of versions; undefined unless every reader
 * field is either a writer field (by name or alias) of the very same schema, or new with a
 * default of a primitive type (nothing to clone), with no record and no logical type but
 * `date` inside. Anything else (a promotion, a changed union, a nested record, a uuid) goes
 * through Avro resolution.
 */
export function converter(
  writer: avro.Type,
  reader: avro.Type,
): ((value: unknown) => unknown) | undefined {
  if (!(writer instanceof avro.types.RecordType) || !(reader instanceof avro.types.RecordType))
    return undefined;
  const written = new Map(writer.fields.map((f) => [f.name, f]));
  const fields: ({ readonly from: string } | { readonly value: unknown })[] = [];
  for (const field of reader.fields) {
    const sources = [field.name, ...field.aliases].flatMap((name) => written.get(name) ?? []);
    // Two writer fields for one reader field: left to Avro resolution to judge.
    if (sources.length > 1) return undefined;
    const [source] = sources;
    if (source) {
      // With attributes: the logical types too (and docs, which leave a field to resolution).
      const schema = JSON.stringify(field.type.schema({ exportAttrs: true }));
      // A record inside is an object of its version's class: Avro resolution makes it anew.
      // A logical type other than `date` may write a value otherwise than it was given (a
      // uuid in lower case, a timestamp with milliseconds): only encoding gives that form.
      if (
        JSON.stringify(source.type.schema({ exportAttrs: true })) !== schema ||
        /"type":"(record|error)"/.test(schema) ||
        /"logicalType":"(?!date")/.test(schema)
      )
        return undefined;
      fields.push({ from: source.name });
    } else {
      const value = field.defaultValue();
      if (value === undefined || (typeof value === 'object' && value !== null)) return undefined;
      fields.push({ value });
    }
  }
  const Record = reader.recordConstructor as new (...values: unknown[]) => unknown;
  return (value) => {
    const from = value as Readonly<Record<string, unknown>>;
    return new Record(...fields.map((f) => ('from' in f ? from[f.from] : f.value)));
  };
}

/** The paths at which data does not match a type (joined), or undefined when it matches. */
function invalidPaths(type: avro.Type, data: unknown): string | undefined {
  // Checked without a hook first: with one, avsc tracks the path of every value it visits.
  if (type.isValid(data)) return undefined;
  const invalid: string[] = [];
  type.isValid(data, { errorHook: (path: string[]) => invalid.push(path.join('.') || '(root)') });
  return [...new Set(invalid)].join(', ');
}

/** What a decode error names of the event. */
function contextOf(stored: StoredData) {
  return { eventId: stored.eventId, eventType: stored.eventType, fingerprint: stored.fingerprint };
}

function key(eventType: string, version: number): string {
  return `${eventType}@${version}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
