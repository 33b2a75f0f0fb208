import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * A DynamoDB attribute value as JSON carries it: binary as base64 text. util-dynamodb converts
 * between attribute values and plain values, not to this wire form, hence the code below.
 */
export type JsonAttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: string }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly string[] }
  | { readonly L: readonly JsonAttributeValue[] }
  | { readonly M: Readonly<Record<string, JsonAttributeValue>> };

export type JsonItem = Readonly<Record<string, JsonAttributeValue>>;

/** An item in DynamoDB JSON, as change records and the console show it. */
export function itemToJson(item: Record<string, AttributeValue>): JsonItem {
  const out: Record<string, JsonAttributeValue> = {};
  for (const [name, value] of Object.entries(item)) out[name] = valueToJson(value);
  return out;
}

/** DynamoDB JSON back to an item; throws a TypeError naming the attribute path on anything else. */
export function itemFromJson(json: unknown, path = ''): Record<string, AttributeValue> {
  if (!isObject(json)) throw new TypeError(`${path || 'item'} is not an object`);
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(json))
    out[name] = valueFromJson(value, path ? `${path}.${name}` : name);
  return out;
}

function valueToJson(value: AttributeValue): JsonAttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: true };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(valueToJson) };
  if (value.M !== undefined) return { M: itemToJson(value.M) };
  throw new TypeError('unsupported attribute value');
}

function valueFromJson(value: unknown, path: string): AttributeValue {
  if (!isObject(value)) throw new TypeError(`${path} is not an attribute value`);
  const [type, ...rest] = Object.keys(value);
  if (type === undefined || rest.length > 0)
    throw new TypeError(`${path} must have exactly one type key`);
  const v = value[type];
  const strings = (what: string) => {
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
      throw new TypeError(`${path}.${what} is not a list of strings`);
    return v as string[];
  };
  switch (type) {
    case 'S':
    case 'N':
      if (typeof v !== 'string') throw new TypeError(`${path}.${type} is not a string`);
      return type === 'S' ? { S: v } : { N: v };
    case 'B':
      if (typeof v !== 'string') throw new TypeError(`${path}.B is not base64 text`);
      return { B: Buffer.from(v, 'base64') };
    case 'BOOL':
      if (typeof v !== 'boolean') throw new TypeError(`${path}.BOOL is not a boolean`);
      return { BOOL: v };
    case 'NULL':
      return { NULL: true };
    case 'SS':
      return { SS: strings('SS') };
    case 'NS':
      return { NS: strings('NS') };
    case 'BS':
      return { BS: strings('BS').map((b) => Buffer.from(b, 'base64')) };
    case 'L':
      if (!Array.isArray(v)) throw new TypeError(`${path}.L is not a list`);
      return { L: v.map((e, i) => valueFromJson(e, `${path}[${i}]`)) };
    case 'M':
      return { M: itemFromJson(v, path) };
    default:
      throw new TypeError(`${path} has an unknown type ${type}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
