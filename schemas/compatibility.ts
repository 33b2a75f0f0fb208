import type { Schema } from 'avsc';

/** One reason a reader schema cannot read data of a writer schema. */
export interface CompatibilityIssue {
  /** Dotted path from the top record, e.g. 'MatchRecorded.home_goals' or 'RpiCalculated.rankings[].rpi' or 'X.f<union>'. */
  readonly path: string;
  /** Human-readable reason, e.g. 'field "home_goals" (int) is missing from the writer and has no default'. */
  readonly message: string;
}

export const COMPATIBILITY_MODES = [
  'NONE',
  'BACKWARD',
  'BACKWARD_ALL',
  'FORWARD',
  'FORWARD_ALL',
  'FULL',
  'FULL_ALL',
] as const;
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

/** A version of an event type's schema, for checking a whole history. */
export interface SchemaVersion {
  readonly version: number;
  readonly schema: Schema;
}

export interface CompatibilityViolation {
  readonly eventType: string;
  /** The version whose data cannot be read. */
  readonly writerVersion: number;
  /** The version that cannot read it. */
  readonly readerVersion: number;
  readonly path: string;
  /** Full sentence naming the event type, both versions and the field path, e.g.
   *  'MatchRecorded v2 cannot read v1 (BACKWARD_ALL): MatchRecorded.home_goals: field "home_goals" (int) is missing from v1 and has no default' */
  readonly message: string;
}

/**
 * Every reason `reader` cannot read data written with `writer`, by the Avro 1.11 schema
 * resolution rules; empty when it can.
 * @example readerIssues({ type: 'record', name: 'A', fields: [] }, 'int') // one 'type changed' issue
 */
export function readerIssues(reader: Schema, writer: Schema): CompatibilityIssue[] {
  return render(resolve(normalise(reader), normalise(writer), '', new Map()), GENERIC_ROLES);
}

/**
 * Checks versions (sorted ascending by version, 1..N) of one event type under `mode`.
 * `breaks` is the set of versions V for which an upcaster from V-1 to V exists: such a version
 * starts a new run, and no pair of versions on different sides of a break is checked (the upcaster
 * defines how the newer version reads the older). Within each run:
 *  - BACKWARD: each version V can read V-1;  BACKWARD_ALL: V can read every earlier version of its run;
 *  - FORWARD: V-1 can read V;  FORWARD_ALL: every earlier version of the run can read V;
 *  - FULL = BACKWARD + FORWARD;  FULL_ALL = BACKWARD_ALL + FORWARD_ALL;  NONE: nothing checked.
 * Returns every violation (not just the first).
 */
export function checkHistory(
  eventType: string,
  mode: CompatibilityMode,
  versions: readonly SchemaVersion[],
  breaks: ReadonlySet<number> = new Set(),
): CompatibilityViolation[] {
  const rules = MODE_RULES[mode];
  if (!rules.backward && !rules.forward) return [];
  const parsed = [...versions]
    .sort((a, b) => a.version - b.version)
    .map((v) => ({ version: v.version, node: normalise(v.schema) }));

  const violations: CompatibilityViolation[] = [];
  const check = (reader: ParsedVersion, writer: ParsedVersion): void => {
    const roles: Roles = {
      writer: `v${writer.version}`,
      reader: `v${reader.version}`,
      theWriter: `v${writer.version}`,
      theReader: `v${reader.version}`,
    };
    for (const issue of render(resolve(reader.node, writer.node, '', new Map()), roles)) {
      const where = issue.path === '' ? '' : `${issue.path}: `;
      violations.push({
        eventType,
        writerVersion: writer.version,
        readerVersion: reader.version,
        path: issue.path,
        message: `${eventType} ${roles.reader} cannot read ${roles.writer} (${mode}): ${where}${issue.message}`,
      });
    }
  };

  let runStart = 0;
  parsed.forEach((current, i) => {
    if (breaks.has(current.version)) runStart = i;
    const earlier = parsed.slice(rules.transitive ? runStart : Math.max(runStart, i - 1), i);
    if (rules.backward) for (const older of earlier) check(current, older);
    if (rules.forward) for (const older of earlier) check(older, current);
  });
  return violations;
}

interface ParsedVersion {
  readonly version: number;
  readonly node: Node;
}

const MODE_RULES: Record<
  CompatibilityMode,
  { readonly backward: boolean; readonly forward: boolean; readonly transitive: boolean }
> = {
  NONE: { backward: false, forward: false, transitive: false },
  BACKWARD: { backward: true, forward: false, transitive: false },
  BACKWARD_ALL: { backward: true, forward: false, transitive: true },
  FORWARD: { backward: false, forward: true, transitive: false },
  FORWARD_ALL: { backward: false, forward: true, transitive: true },
  FULL: { backward: true, forward: true, transitive: false },
  FULL_ALL: { backward: true, forward: true, transitive: true },
};

// ---------------------------------------------------------------------------------------------
// Normalised schema graph. Named types are shared objects, so recursive schemas become cycles.

type Primitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

const PRIMITIVES: ReadonlySet<string> = new Set<Primitive>([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);

/** Writer type → reader types it may be promoted to (Avro 1.11 "Schema Resolution"). */
const PROMOTIONS: Readonly<Record<Primitive, readonly Primitive[]>> = {
  null: [],
  boolean: [],
  int: ['long', 'float', 'double'],
  long: ['float', 'double'],
  float: ['double'],
  double: [],
  bytes: ['string'],
  string: ['bytes'],
};

interface FieldNode {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly type: Node;
  readonly hasDefault: boolean;
}

interface RecordNode {
  readonly kind: 'record';
  /** Unqualified name and aliases: Avro 1.11 matches named types by unqualified name. */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly fields: FieldNode[];
}

interface EnumNode {
  readonly kind: 'enum';
  readonly name: string;
  readonly aliases: readonly string[];
  readonly symbols: readonly string[];
  readonly default: string | undefined;
}

interface FixedNode {
  readonly kind: 'fixed';
  readonly name: string;
  readonly aliases: readonly string[];
  readonly size: number;
}

type NamedNode = RecordNode | EnumNode | FixedNode;

type Node =
  | { readonly kind: 'primitive'; readonly type: Primitive }
  | NamedNode
  | { readonly kind: 'array'; readonly items: Node }
  | { readonly kind: 'map'; readonly values: Node }
  | { readonly kind: 'union'; readonly branches: readonly Node[] }
  | { readonly kind: 'invalid'; readonly reason: string };

type Json = Readonly<Record<string, unknown>>;

function normalise(schema: Schema): Node {
  return parse(schema, '', new Map());
}

function parse(schema: unknown, namespace: string, names: Map<string, NamedNode>): Node {
  if (typeof schema === 'string') return byName(schema, namespace, names);
  if (Array.isArray(schema)) {
    return { kind: 'union', branches: schema.map((b: unknown) => parse(b, namespace, names)) };
  }
  if (typeof schema !== 'object' || schema === null) {
    return { kind: 'invalid', reason: `a ${typeof schema} is not a schema` };
  }
  const json = schema as Json;
  // An avsc Type instance: its schema() drops enum defaults, so prefer passing JSON schemas.
  if (typeof json.schema === 'function' && typeof json.typeName === 'string') {
    return parse((json.schema as (o: object) => unknown)({ exportAttrs: true }), namespace, names);
  }
  const type = json.type;
  if (typeof type !== 'string') return parse(type, namespace, names);
  switch (type) {
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed':
      return parseNamed(type, json, namespace, names);
    case 'array':
      return { kind: 'array', items: parse(json.items, namespace, names) };
    case 'map':
      return { kind: 'map', values: parse(json.values, namespace, names) };
    default:
      // A primitive (possibly carrying a logicalType, which resolution ignores) or a reference.
      return byName(type, namespace, names);
  }
}

function parseNamed(
  type: 'record' | 'error' | 'enum' | 'fixed',
  json: Json,
  enclosing: string,
  names: Map<string, NamedNode>,
): Node {
  if (typeof json.name !== 'string') return { kind: 'invalid', reason: `${type} without a name` };
  const fullName = qualify(
    json.name,
    typeof json.namespace === 'string' ? json.namespace : enclosing,
  );
  const namespace = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : '';
  const name = unqualify(fullName);
  const aliases = strings(json.aliases).map(unqualify);
  let node: NamedNode;
  if (type === 'enum') {
    const symbols = strings(json.symbols);
    const dflt = typeof json.default === 'string' ? json.default : undefined;
    node = { kind: 'enum', name, aliases, symbols, default: dflt };
  } else if (type === 'fixed') {
    node = { kind: 'fixed', name, aliases, size: typeof json.size === 'number' ? json.size : -1 };
  } else {
    node = { kind: 'record', name, aliases, fields: [] };
  }
  // Registered before the fields are parsed so that a record may refer to itself.
  names.set(fullName, node);
  if (node.kind === 'record' && Array.isArray(json.fields)) {
    for (const field of json.fields as unknown[]) {
      if (typeof field !== 'object' || field === null) continue;
      const f = field as Json;
      node.fields.push({
        name: typeof f.name === 'string' ? f.name : '',
        aliases: strings(f.aliases),
        type: parse(f.type, namespace, names),
        // JSON has no undefined, so `default: undefined` counts as absent (as in avsc); null counts.
        hasDefault: f.default !== undefined,
      });
    }
  }
  return node;
}

function byName(name: string, namespace: string, names: ReadonlyMap<string, NamedNode>): Node {
  if (PRIMITIVES.has(name)) return { kind: 'primitive', type: name as Primitive };
  // An unqualified reference is looked up in the enclosing namespace, then in the null one.
  const found = names.get(qualify(name, namespace)) ?? names.get(name);
  return found ?? { kind: 'invalid', reason: `type "${name}" is not defined` };
}

function qualify(name: string, namespace: string): string {
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}

function unqualify(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

// ---------------------------------------------------------------------------------------------
// Resolution. Issues carry a message template so checkHistory can name versions instead of roles.

interface Roles {
  /** Short label, e.g. 'writer' or 'v1', as in 'string (writer)'. */
  readonly writer: string;
  readonly reader: string;
  /** Noun phrase, e.g. 'the writer' or 'v1', as in 'missing from the writer'. */
  readonly theWriter: string;
  readonly theReader: string;
}

const GENERIC_ROLES: Roles = {
  writer: 'writer',
  reader: 'reader',
  theWriter: 'the writer',
  theReader: 'the reader',
};

interface PendingIssue {
  readonly path: string;
  readonly message: (roles: Roles) => string;
}

/** Record pairs being resolved further up the stack: meeting one again means a cycle. */
type InProgress = Map<RecordNode, Set<RecordNode>>;

function render(issues: readonly PendingIssue[], roles: Roles): CompatibilityIssue[] {
  return issues.map((i) => ({ path: i.path, message: i.message(roles) }));
}

function resolve(reader: Node, writer: Node, path: string, seen: InProgress): PendingIssue[] {
  if (writer.kind === 'invalid' || reader.kind === 'invalid') {
    return [
      ...(writer.kind === 'invalid' ? [invalid(path, writer.reason, 'theWriter')] : []),
      ...(reader.kind === 'invalid' ? [invalid(path, reader.reason, 'theReader')] : []),
    ];
  }
  if (writer.kind === 'union') {
    // Every branch the writer may have written must be readable.
    const at = inUnion(path);
    return writer.branches.flatMap((branch) =>
      reader.kind === 'union'
        ? intoUnion(reader, branch, at, seen, 'union branch')
        : fromWriterBranch(reader, branch, at, seen),
    );
  }
  if (reader.kind === 'union') return intoUnion(reader, writer, inUnion(path), seen, 'type');

  switch (reader.kind) {
    case 'primitive':
      if (writer.kind === 'primitive' && promotes(writer.type, reader.type)) return [];
      return [typeChanged(path, reader, writer)];
    case 'array':
      if (writer.kind !== 'array') return [typeChanged(path, reader, writer)];
      return resolve(reader.items, writer.items, `${path}[]`, seen);
    case 'map':
      if (writer.kind !== 'map') return [typeChanged(path, reader, writer)];
      return resolve(reader.values, writer.values, `${path}{}`, seen);
    case 'record':
      if (writer.kind !== 'record') return [typeChanged(path, reader, writer)];
      if (!namesMatch(reader, writer)) return [nameChanged(path, reader, writer)];
      return resolveRecord(reader, writer, path === '' ? reader.name : path, seen);
    case 'enum':
      if (writer.kind !== 'enum') return [typeChanged(path, reader, writer)];
      if (!namesMatch(reader, writer)) return [nameChanged(path, reader, writer)];
      return resolveEnum(reader, writer, path);
    case 'fixed': {
      if (writer.kind !== 'fixed') return [typeChanged(path, reader, writer)];
      const issues = namesMatch(reader, writer) ? [] : [nameChanged(path, reader, writer)];
      if (reader.size !== writer.size) {
        issues.push({
          path,
          message: (r) =>
            `size of fixed ${reader.name} changed from ${writer.size} (${r.writer}) to ${reader.size} (${r.reader})`,
        });
      }
      return issues;
    }
  }
}

function resolveRecord(
  reader: RecordNode,
  writer: RecordNode,
  path: string,
  seen: InProgress,
): PendingIssue[] {
  const pending = seen.get(reader) ?? new Set<RecordNode>();
  // Coinductive: a pair met again inside itself holds if everything else around the cycle does.
  if (pending.has(writer)) return [];
  seen.set(reader, pending.add(writer));
  try {
    return reader.fields.flatMap((field) => {
      const source =
        writer.fields.find((w) => w.name === field.name) ??
        writer.fields.find((w) => field.aliases.includes(w.name));
      const at = `${path}.${field.name}`;
      if (source !== undefined) return resolve(field.type, source.type, at, seen);
      if (field.hasDefault) return [];
      return [
        {
          path: at,
          message: (r) =>
            `field "${field.name}" (${describe(field.type)}) is missing from ${r.theWriter} and has no default`,
        },
      ];
    });
  } finally {
    pending.delete(writer);
  }
}

function resolveEnum(reader: EnumNode, writer: EnumNode, path: string): PendingIssue[] {
  if (reader.default !== undefined && reader.symbols.includes(reader.default)) return [];
  return writer.symbols
    .filter((symbol) => !reader.symbols.includes(symbol))
    .map((symbol) => ({
      path,
      message: (r) =>
        `symbol "${symbol}" of enum ${writer.name} is missing from ${r.theReader}, which has no default symbol`,
    }));
}

/** A non-union reader must read every branch of the writer's union. */
function fromWriterBranch(
  reader: Node,
  branch: Node,
  path: string,
  seen: InProgress,
): PendingIssue[] {
  const issues = resolve(reader, branch, path, seen);
  if (issues.length === 0 || sameShape(reader, branch)) return issues;
  return [
    {
      path,
      message: (r) =>
        `union branch ${describe(branch)} (${r.writer}) cannot be read as ${describe(reader)} (${r.reader})`,
    },
  ];
}

/**
 * The spec resolves against the first reader branch that matches; for compatibility any branch that
 * reads the writer cleanly will do. When none does, the issues of the first branch of the same
 * shape (e.g. the same-named record) are the most useful explanation.
 */
function intoUnion(
  reader: Extract<Node, { kind: 'union' }>,
  writer: Node,
  path: string,
  seen: InProgress,
  what: 'type' | 'union branch',
): PendingIssue[] {
  let closest: PendingIssue[] | undefined;
  for (const branch of reader.branches) {
    const issues = resolve(branch, writer, path, seen);
    if (issues.length === 0) return [];
    if (closest === undefined && sameShape(branch, writer)) closest = issues;
  }
  return (
    closest ?? [
      {
        path,
        message: (r) =>
          `${what} ${describe(writer)} (${r.writer}) matches no branch of the ${r.reader} union ${describe(reader)}`,
      },
    ]
  );
}

/** The spec's shallow "match" between two non-union schemas, before looking inside them. */
function sameShape(reader: Node, writer: Node): boolean {
  switch (reader.kind) {
    case 'primitive':
      return writer.kind === 'primitive' && promotes(writer.type, reader.type);
    case 'record':
    case 'enum':
    case 'fixed':
      return writer.kind === reader.kind && namesMatch(reader, writer);
    case 'array':
    case 'map':
      return writer.kind === reader.kind;
    default:
      return false;
  }
}

function promotes(writer: Primitive, reader: Primitive): boolean {
  return writer === reader || PROMOTIONS[writer].includes(reader);
}

function namesMatch(reader: NamedNode, writer: NamedNode): boolean {
  return reader.name === writer.name || reader.aliases.includes(writer.name);
}

function inUnion(path: string): string {
  // At the top there is no name to attach the marker to; a record branch will supply its own.
  return path === '' ? '' : `${path}<union>`;
}

function typeChanged(path: string, reader: Node, writer: Node): PendingIssue {
  return {
    path,
    message: (r) =>
      `type changed from ${describe(writer)} (${r.writer}) to ${describe(reader)} (${r.reader})`,
  };
}

function nameChanged(path: string, reader: NamedNode, writer: NamedNode): PendingIssue {
  return {
    path,
    message: (r) =>
      `${reader.kind} name changed from ${writer.name} (${r.writer}) to ${reader.name} (${r.reader}) and ${r.theReader} has no alias ${writer.name}`,
  };
}

function invalid(path: string, reason: string, side: 'theWriter' | 'theReader'): PendingIssue {
  return { path, message: (r) => `invalid schema in ${r[side]}: ${reason}` };
}

/** Short type description; named types by name only, so cycles terminate. */
function describe(node: Node): string {
  switch (node.kind) {
    case 'primitive':
      return node.type;
    case 'record':
    case 'enum':
    case 'fixed':
      return `${node.kind} ${node.name}`;
    case 'array':
      return `array<${describe(node.items)}>`;
    case 'map':
      return `map<${describe(node.values)}>`;
    case 'union':
      return `[${node.branches.map(describe).join(', ')}]`;
    case 'invalid':
      return 'invalid schema';
  }
}
