import { dependencyModule, forThread, inProcess, type ModulePatch } from './modulePatches.js';

/** A member's type as dynalite's validations describe it: a name, or a name and its children. */
type TypeSpec = string | { readonly type?: unknown; readonly children?: unknown };
type Fields = Readonly<Record<string, TypeSpec>>;

/** What of dynalite's `validations/index.js` the patch below replaces. */
interface DynaliteValidations {
  checkTypes(data: unknown, types: Fields): unknown;
}

/**
 * dynalite checks the wire types of every request before anything else (`checkTypes`): it
 * walks the whole request against the operation's description and builds a copy of it, a new
 * object for every attribute value of every item, converting what DynamoDB's JSON parser
 * would convert (`"true"` to a boolean, a decimal to an integer) and dropping unknown members
 * and nulls. In a CPU profile of `matchstream start` (1,000 teams) that took 1.0 s of the 8.3 s
 * dynalite's thread was busy, the thread the pipeline waits on (bench/README.md, "dynalite's
 * type check without a copy, and its table descriptions kept"). This looks first, without
 * building anything, whether the request is already what that copy would be: every member
 * known and not null, every value of its type (a string for a string, an integer for an
 * integer, canonical base64 for bytes, the structures and their members likewise). Such a
 * request is passed on as it is, which is equal, member for member, to the copy; any other
 * request goes to dynalite's own check, which converts or refuses it as before.
 *
 * Self-contained on purpose: a server thread runs its source text (`dynaliteTypePatches`).
 */
export function typesCheckedInPlace(validations: DynaliteValidations): void {
  const marked = validations as DynaliteValidations & Record<symbol, unknown>;
  const patched = Symbol.for('matchstream.typesCheckedInPlace');
  if (marked[patched]) return;
  marked[patched] = true;
  const checkTypes = validations.checkTypes;
  // The members of an attribute value, as dynalite checks them.
  const ATTRIBUTE: Fields = {
    S: 'String',
    B: 'Blob',
    N: 'String',
    BOOL: 'Boolean',
    NULL: 'Boolean',
    BS: { type: 'List', children: 'Blob' },
    NS: { type: 'List', children: 'String' },
    SS: { type: 'List', children: 'String' },
    L: { type: 'List', children: 'AttrStruct<ValueStruct>' },
    M: { type: 'Map<AttributeValue>', children: 'AttrStruct<ValueStruct>' },
  };
  // A type's name without its parameter (`Map<AttributeValue>` is a `Map`), as dynalite reads it.
  const names = new Map<string, string>();
  const nameOf = (type: string): string => {
    let name = names.get(type);
    if (name === undefined) {
      name = /(.+?)<(.+)>$/.exec(type)?.[1] ?? type;
      names.set(type, name);
    }
    return name;
  };
  const isStructure = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  const membersAsTheyAre = (data: unknown, fields: Fields): boolean => {
    if (!isStructure(data)) return false;
    for (const key in data) {
      // A member it does not describe, or a null (no type takes one): dropped by dynalite's check.
      if (!Object.hasOwn(fields, key) || !asItIs(data[key], fields[key] as TypeSpec)) return false;
    }
    return true;
  };
  const asItIs = (value: unknown, spec: TypeSpec): boolean => {
    const type = typeof spec === 'string' ? spec : spec.type;
    if (typeof type !== 'string') return false;
    const children = (typeof spec === 'string' ? undefined : spec.children) as
      | TypeSpec
      | Fields
      | undefined;
    switch (nameOf(type)) {
      case 'String':
        return typeof value === 'string';
      case 'Boolean':
        return typeof value === 'boolean';
      case 'Short':
      case 'Integer':
      case 'Long':
        return typeof value === 'number' && Number.isInteger(value);
      case 'Double':
        return typeof value === 'number';
      case 'Blob':
        // What does not come back the same from a decode and an encode is no canonical base64.
        return (
          typeof value === 'string' && Buffer.from(value, 'base64').toString('base64') === value
        );
      case 'AttrStruct':
        return membersAsTheyAre(value, ATTRIBUTE);
      case 'ValueStruct':
      case 'FieldStruct':
        return typeof children === 'object' && membersAsTheyAre(value, children as Fields);
      case 'List':
      case 'ParameterizedList':
        if (!Array.isArray(value) || children === undefined) return false;
        for (const element of value) if (!asItIs(element, children as TypeSpec)) return false;
        return true;
      case 'Map':
      case 'ParameterizedMap':
        if (!isStructure(value) || children === undefined) return false;
        for (const key in value) if (!asItIs(value[key], children as TypeSpec)) return false;
        return true;
      default:
        return false;
    }
  };
  validations.checkTypes = (data, types) =>
    membersAsTheyAre(data, types) ? data : checkTypes(data, types);
}

/** The patch as a server thread takes it: its source and dynalite's validations module. */
export const dynaliteTypePatches = (): readonly ModulePatch[] => [
  forThread(typesCheckedInPlace, dynalitesValidations()),
];

/** The patch, in this process. */
export const patchDynaliteTypes = (): void =>
  inProcess(typesCheckedInPlace, dynalitesValidations());

/** The path of dynalite's validations module. */
export const dynalitesValidations = (): string => dependencyModule('dynalite', './validations');
