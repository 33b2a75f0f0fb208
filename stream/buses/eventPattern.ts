/**
 * EventBridge event patterns: validation as PutRule does it and matching as rules do it, with no
 * I/O, so a bus adapter, a local bus and tests share one definition of "this rule fires".
 *
 * Semantics follow the EventBridge user guide (event patterns, content filtering, comparison
 * operators) and Event Ruler, the engine behind it (github.com/aws/event-ruler, JsonRuleCompiler).
 */

/** An EventBridge event pattern (JSON). */
export type EventPattern = { readonly [key: string]: unknown };

/**
 * An event as EventBridge matches it: version, id, detail-type, source, account, time, region,
 * resources, detail.
 */
export type BusEvent = { readonly [key: string]: unknown };

/**
 * A pattern EventBridge would refuse; the message names the path in the pattern, e.g.
 * 'detail.score: numeric needs an operator and a number'. Never carries the event.
 */
export class EventPatternError extends Error {
  readonly code = 'INVALID_EVENT_PATTERN';
  /** Where in the pattern: dotted field names, `$or[i]` for alternatives; '' for the whole. */
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown }) {
    super(path === '' ? reason : `${path}: ${reason}`, options);
    this.name = 'EventPatternError';
    this.path = path;
  }
}

/**
 * Checks a pattern (object, or JSON text) the way PutRule would and returns a matcher; throws
 * EventPatternError. Compile once, match many:
 * `const isTerminated = compilePattern({ detail: { state: ['terminated'] } });`
 */
export function compilePattern(pattern: EventPattern | string): (event: BusEvent) => boolean {
  const root = compileObject(parsePattern(pattern), '');
  return (event) => isPlainObject(event) && matchObject(root, event);
}

/** One-off convenience: compilePattern(pattern)(event). */
export function matchesPattern(pattern: EventPattern | string, event: BusEvent): boolean {
  return compilePattern(pattern)(event);
}

// ---------------------------------------------------------------------------------------------
// Compiled form

type Scalar = string | number | boolean | null;
type ValueTest = (value: Scalar) => boolean;

/** A leaf: the field matches if any test passes on any of its values, or by (non-)existence. */
interface LeafRule {
  readonly kind: 'leaf';
  readonly tests: readonly ValueTest[];
  readonly ifPresent: boolean;
  readonly ifAbsent: boolean;
}

/** An object level: every field must match, and one alternative of every `$or`. */
interface ObjectRule {
  readonly kind: 'object';
  readonly fields: readonly { readonly key: string; readonly rule: LeafRule | ObjectRule }[];
  readonly alternatives: readonly (readonly ObjectRule[])[];
}

// ---------------------------------------------------------------------------------------------
// Matching

function matchObject(rule: ObjectRule, value: unknown): boolean {
  const object = isPlainObject(value) ? value : undefined;
  return (
    rule.fields.every(({ key, rule: fieldRule }) => {
      const child = object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
      return fieldRule.kind === 'leaf'
        ? matchLeaf(fieldRule, child)
        : matchNested(fieldRule, child);
    }) && rule.alternatives.every((group) => group.some((alt) => matchObject(alt, value)))
  );
}

/** A nested pattern descends into an object, or into any object element of an array. */
function matchNested(rule: ObjectRule, value: unknown): boolean {
  const candidates = Array.isArray(value) ? flatten(value).filter(isPlainObject) : [value];
  return candidates.length === 0
    ? matchObject(rule, undefined)
    : candidates.some((c) => matchObject(rule, c));
}

function matchLeaf(rule: LeafRule, value: unknown): boolean {
  const values = leafValues(value);
  if (values.length > 0 ? rule.ifPresent : rule.ifAbsent) return true;
  return values.some((v) => rule.tests.some((test) => test(v)));
}

/**
 * The leaf values of a field: a scalar, or the scalars of an array (nested arrays crushed).
 * An object is not a leaf, and an empty array holds no value: both count as absent.
 */
function leafValues(value: unknown): readonly Scalar[] {
  if (Array.isArray(value)) return flatten(value).filter(isScalar);
  return isScalar(value) ? [value] : [];
}

function flatten(values: readonly unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}

function isScalar(value: unknown): value is Scalar {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function isPlainObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Compiling and validating

const OR = '$or';

/** Field names Event Ruler refuses inside `$or` alternatives (operators and reserved words). */
const RESERVED_IN_OR = new Set([
  ...['exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists'],
  ...['wildcard', 'numeric', 'cidr', '=', '<', '<=', '>', '>=', 'regex'],
  ...['not-wildcard', 'not-equals-ignore-case', 'date-after', 'date-on-or-after'],
  ...['date-before', 'date-on-or-before', 'in-date-range'],
  ...['ip-address-in-range', 'ip-address-not-in-range'],
]);

function parsePattern(pattern: EventPattern | string): { readonly [key: string]: unknown } {
  let value: unknown = pattern;
  if (typeof pattern === 'string') {
    try {
      value = JSON.parse(pattern);
    } catch (cause) {
      throw new EventPatternError('', 'the pattern is not valid JSON', { cause });
    }
  }
  if (!isPlainObject(value)) throw new EventPatternError('', 'the pattern is not a JSON object');
  return value;
}

function compileObject(
  object: { readonly [key: string]: unknown },
  path: string,
  insideOr = false,
): ObjectRule {
  const keys = Object.keys(object);
  if (keys.length === 0) throw new EventPatternError(path, 'empty objects are not allowed');
  const fields: ObjectRule['fields'][number][] = [];
  const alternatives: ObjectRule[][] = [];
  for (const key of keys) {
    const value = object[key];
    if (key === OR) {
      alternatives.push(compileOr(value, join(path, OR)));
      continue;
    }
    const fieldPath = join(path, key);
    if (insideOr && RESERVED_IN_OR.has(key)) {
      throw new EventPatternError(fieldPath, `"${key}" is reserved and cannot be a field in $or`);
    }
    if (Array.isArray(value)) fields.push({ key, rule: compileLeaf(value, fieldPath) });
    else if (isPlainObject(value)) {
      fields.push({ key, rule: compileObject(value, fieldPath, insideOr) });
    } else throw new EventPatternError(fieldPath, 'must be an object or an array');
  }
  return { kind: 'object', fields, alternatives };
}

function compileOr(value: unknown, path: string): ObjectRule[] {
  if (!Array.isArray(value)) throw new EventPatternError(path, 'must be an array of objects');
  if (value.length < 2) throw new EventPatternError(path, 'needs at least 2 objects');
  return value.map((alt, i) => {
    const altPath = `${path}[${i}]`;
    if (!isPlainObject(alt)) throw new EventPatternError(altPath, 'must be an object');
    return compileObject(alt, altPath, true);
  });
}

function compileLeaf(values: readonly unknown[], path: string): LeafRule {
  if (values.length === 0) throw new EventPatternError(path, 'empty arrays are not allowed');
  const tests: ValueTest[] = [];
  let ifPresent = false;
  let ifAbsent = false;
  for (const value of values) {
    if (isScalar(value)) {
      tests.push(exactly(value));
      continue;
    }
    if (!isPlainObject(value)) {
      throw new EventPatternError(path, 'a match value is a string, number, true, false or null');
    }
    const operator = compileOperator(value, path);
    if (operator === true) ifPresent = true;
    else if (operator === false) ifAbsent = true;
    else tests.push(operator);
  }
  return { kind: 'leaf', tests, ifPresent, ifAbsent };
}

/** One `{ operator: argument }` object: a value test, or true/false for `exists`. */
function compileOperator(
  expression: { readonly [key: string]: unknown },
  path: string,
): ValueTest | boolean {
  const [operator, ...extra] = Object.keys(expression);
  if (operator === undefined) throw new EventPatternError(path, 'an operator object is empty');
  if (extra.length > 0) {
    throw new EventPatternError(path, 'an operator object takes exactly one operator');
  }
  const argument = expression[operator];
  switch (operator) {
    case 'prefix':
      return affixTest('prefix', argument, path);
    case 'suffix':
      return affixTest('suffix', argument, path);
    case 'equals-ignore-case':
      return equalsIgnoreCase(requireString(argument, path, operator));
    case 'wildcard':
      return wildcardTest(requireWildcard(argument, path, operator));
    case 'anything-but':
      return anythingBut(argument, path);
    case 'numeric':
      return numericTest(argument, path);
    case 'exists':
      if (typeof argument !== 'boolean') {
        throw new EventPatternError(path, 'exists needs true or false');
      }
      return argument;
    case 'cidr':
      return cidrTest(requireString(argument, path, operator), path);
    default:
      throw new EventPatternError(path, `unknown operator "${operator}"`);
  }
}

function affixTest(operator: 'prefix' | 'suffix', argument: unknown, path: string): ValueTest {
  const affixOf = operator === 'prefix' ? startsWith : endsWith;
  if (!isPlainObject(argument)) return affixOf(requireString(argument, path, operator));
  const keys = Object.keys(argument);
  if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
    throw new EventPatternError(
      path,
      `${operator} takes a string or {"equals-ignore-case": string}`,
    );
  }
  const label = `${operator} equals-ignore-case`;
  const test = affixOf(requireString(argument['equals-ignore-case'], path, label).toLowerCase());
  return onStrings((value) => test(value.toLowerCase()));
}

/**
 * `anything-but`: a string or number, a list of only strings or only numbers, or
 * `{prefix|suffix|equals-ignore-case|wildcard: string or list of strings}`. It matches any
 * present value not excluded, whatever its type (so `{prefix: "a"}` lets a number through).
 */
function anythingBut(argument: unknown, path: string): ValueTest {
  if (isPlainObject(argument)) return anythingButNested(argument, path);
  if (typeof argument === 'string' || isFiniteNumber(argument)) {
    return not(exactly(argument));
  }
  if (!Array.isArray(argument)) {
    throw new EventPatternError(path, 'anything-but takes a string, a number, a list or an object');
  }
  const allStrings = argument.length > 0 && argument.every((v) => typeof v === 'string');
  const allNumbers = argument.length > 0 && argument.every(isFiniteNumber);
  if (!allStrings && !allNumbers) {
    throw new EventPatternError(path, 'an anything-but list holds only strings or only numbers');
  }
  return not(anyOf((argument as readonly (string | number)[]).map(exactly)));
}

const ANYTHING_BUT_NESTED = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

function anythingButNested(argument: { readonly [key: string]: unknown }, path: string): ValueTest {
  const [operator, ...extra] = Object.keys(argument);
  if (operator === undefined || extra.length > 0) {
    throw new EventPatternError(path, 'anything-but takes exactly one nested operator');
  }
  if (!ANYTHING_BUT_NESTED.has(operator)) {
    throw new EventPatternError(path, `anything-but does not take "${operator}"`);
  }
  const label = `anything-but ${operator}`;
  const raw = argument[operator];
  const strings = Array.isArray(raw)
    ? raw.map((v) => requireString(v, path, label))
    : [requireString(raw, path, label)];
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (strings.some((s) => s === '')) {
        throw new EventPatternError(path, `${label} needs a non-empty string`);
      }
      return not(anyOf(strings.map(operator === 'prefix' ? startsWith : endsWith)));
    case 'equals-ignore-case':
      return not(anyOf(strings.map(equalsIgnoreCase)));
    default:
      return not(anyOf(strings.map((s) => wildcardTest(requireWildcard(s, path, label)))));
  }
}

// ---------------------------------------------------------------------------------------------
// Value tests

function exactly(expected: Scalar): ValueTest {
  return (value) => value === expected;
}

function not(test: ValueTest): ValueTest {
  return (value) => !test(value);
}

function anyOf(tests: readonly ValueTest[]): ValueTest {
  return (value) => tests.some((test) => test(value));
}

/** String-only operators never match numbers, booleans or null. */
function onStrings(test: (value: string) => boolean): ValueTest {
  return (value) => typeof value === 'string' && test(value);
}

function startsWith(prefix: string): ValueTest {
  return onStrings((value) => value.startsWith(prefix));
}

function endsWith(suffix: string): ValueTest {
  return onStrings((value) => value.endsWith(suffix));
}

function equalsIgnoreCase(expected: string): ValueTest {
  const folded = expected.toLowerCase();
  return onStrings((value) => value.toLowerCase() === folded);
}

/** `*` is any run of characters (newlines too); `\*` is a star and `\\` a backslash. */
function wildcardTest(pattern: string): ValueTest {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '.*';
    else if (c === '\\') source += escapeRegExp(pattern[++i] as string);
    else source += escapeRegExp(c);
  }
  const regExp = new RegExp(`^${source}$`, 's');
  return onStrings((value) => regExp.test(value));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Operator arguments

function requireString(value: unknown, path: string, operator: string): string {
  if (typeof value !== 'string') throw new EventPatternError(path, `${operator} needs a string`);
  return value;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Event Ruler refuses `**` and a backslash that escapes anything but `*` or `\`. */
function requireWildcard(value: unknown, path: string, operator: string): string {
  const pattern = requireString(value, path, operator);
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const next = pattern[i + 1];
    if (c === '*' && next === '*') {
      throw new EventPatternError(path, `${operator} has consecutive wildcards at ${i}`);
    }
    if (c === '\\') {
      if (next !== '*' && next !== '\\') {
        throw new EventPatternError(path, `${operator} has an invalid escape at ${i}`);
      }
      i++;
    }
  }
  return pattern;
}

// ---------------------------------------------------------------------------------------------
// numeric

type Comparison = '=' | '<' | '<=' | '>' | '>=';

const COMPARE: { readonly [op in Comparison]: (a: number, b: number) => boolean } = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/**
 * `numeric`: `[op, n]` with op one of = < <= > >=, or a range `[> or >=, low, < or <=, high]`
 * with low < high. Only JSON numbers match.
 */
function numericTest(argument: unknown, path: string): ValueTest {
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    throw new EventPatternError(path, 'numeric needs an operator and a number, or a range of two');
  }
  const first = comparison(argument[0], argument[1], path);
  if (argument.length === 2) return onNumbers([first]);
  if (first.op !== '>' && first.op !== '>=') {
    throw new EventPatternError(path, 'a numeric range starts with > or >=');
  }
  const second = comparison(argument[2], argument[3], path);
  if (second.op !== '<' && second.op !== '<=') {
    throw new EventPatternError(path, 'a numeric range ends with < or <=');
  }
  if (!(first.bound < second.bound)) {
    throw new EventPatternError(path, 'a numeric range needs its bottom below its top');
  }
  return onNumbers([first, second]);
}

function comparison(
  op: unknown,
  bound: unknown,
  path: string,
): { readonly op: Comparison; readonly bound: number } {
  if (typeof op !== 'string' || !Object.hasOwn(COMPARE, op)) {
    throw new EventPatternError(path, `numeric has an unknown operator ${JSON.stringify(op)}`);
  }
  if (!isFiniteNumber(bound)) {
    throw new EventPatternError(path, `numeric needs a number after "${op}"`);
  }
  return { op: op as Comparison, bound };
}

function onNumbers(comparisons: readonly { op: Comparison; bound: number }[]): ValueTest {
  return (value) =>
    typeof value === 'number' && comparisons.every(({ op, bound }) => COMPARE[op](value, bound));
}

// ---------------------------------------------------------------------------------------------
// cidr

interface Address {
  readonly bits: 32 | 128;
  readonly value: bigint;
}

/**
 * `cidr`: an IPv4 or IPv6 network `address/bits`. As in Event Ruler, the address is floored to
 * the network, so `10.0.0.7/24` means 10.0.0.0–10.0.0.255. Only strings that are IP addresses
 * of the same family match.
 */
function cidrTest(cidr: string, path: string): ValueTest {
  const parts = cidr.split('/');
  if (parts.length !== 2) throw new EventPatternError(path, 'cidr needs one "/"');
  const [ip = '', maskText = ''] = parts;
  if (!/^\d{1,3}$/.test(maskText)) {
    throw new EventPatternError(path, 'cidr mask bits must be an integer');
  }
  const address = parseAddress(ip);
  if (address === undefined) throw new EventPatternError(path, `cidr has a bad IP address "${ip}"`);
  const maskBits = Number(maskText);
  if (maskBits > address.bits) {
    throw new EventPatternError(path, `cidr mask bits must be at most ${address.bits}`);
  }
  const hostBits = BigInt(address.bits - maskBits);
  const low = (address.value >> hostBits) << hostBits;
  const high = low | ((1n << hostBits) - 1n);
  return onStrings((value) => {
    const candidate = parseAddress(value);
    return (
      candidate !== undefined &&
      candidate.bits === address.bits &&
      candidate.value >= low &&
      candidate.value <= high
    );
  });
}

function parseAddress(text: string): Address | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  const v6 = parseIPv6(text);
  return v6 === undefined ? undefined : { bits: 128, value: v6 };
}

function parseIPv4(text: string): bigint | undefined {
  const octets = text.split('.');
  if (octets.length !== 4 || !octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) {
    return undefined;
  }
  return octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = hextets(halves[0] ?? '');
  const tail = halves.length === 2 ? hextets(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** The 16-bit groups of one side of `::`; a trailing dotted quad counts as two. */
function hextets(text: string): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) groups.push(Number.parseInt(part, 16));
    else return undefined;
  }
  return groups;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
