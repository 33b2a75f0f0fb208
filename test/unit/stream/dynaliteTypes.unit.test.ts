import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dynalitesValidations,
  dynaliteTypePatches,
  typesCheckedInPlace,
} from '../../../stream/local/dynaliteTypes.js';
import { freshModule } from '../../support/freshModule.js';

type Spec = string | { type: string; children?: Spec | Fields };
type Fields = Record<string, Spec>;
interface Validations {
  checkTypes(data: unknown, types: Fields): unknown;
}

/** A copy of dynalite's validations module of its own (the cached one stays as it is). */
const freshValidations = () => freshModule<Validations>(dynalitesValidations());
const theirs = freshValidations();
const ours = freshValidations();
typesCheckedInPlace(ours as Parameters<typeof typesCheckedInPlace>[0]);

/** Every operation dynalite serves, with the types it checks its requests against. */
const require = createRequire(import.meta.url);
const operations = readdirSync(dirname(dynalitesValidations()))
  .filter((file) => file.endsWith('.js') && file !== 'index.js')
  .map((file) => ({
    name: file.replace(/\.js$/, ''),
    types: (require(`${dirname(dynalitesValidations())}/${file}`) as { types: Fields }).types,
  }));

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

/** What a JSON body can hold where a member of another type belongs. */
const wrong = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  // What dynalite's check converts rather than refuses, and near misses of base64.
  { weight: 4, arbitrary: fc.constantFrom([], {}, 'true', 'false', 'no', '1', 'QQ=', 'Q', 7.5) },
);

/** Requests as a client might send them: mostly of the described types, sometimes not. */
function value(spec: Spec, depth: number): fc.Arbitrary<unknown> {
  const type = typeof spec === 'string' ? spec : spec.type;
  const children = typeof spec === 'string' ? undefined : spec.children;
  const name = /(.+?)<(.+)>$/.exec(type)?.[1] ?? type;
  let good: fc.Arbitrary<unknown>;
  switch (name) {
    case 'String':
      good = fc.string({ maxLength: 8 });
      break;
    case 'Boolean':
      good = fc.boolean();
      break;
    case 'Short':
    case 'Integer':
    case 'Long':
      good = fc.integer();
      break;
    case 'Double':
      good = fc.double({ noNaN: true, noDefaultInfinity: true });
      break;
    case 'Blob':
      good = fc.uint8Array({ maxLength: 6 }).map((b) => Buffer.from(b).toString('base64'));
      break;
    case 'AttrStruct':
      good = depth > 3 ? fc.record({ S: fc.string({ maxLength: 4 }) }) : members(ATTRIBUTE, depth);
      break;
    case 'ValueStruct':
    case 'FieldStruct':
      good = members(children as Fields, depth);
      break;
    case 'List':
    case 'ParameterizedList':
      good = fc.array(value(children as Spec, depth + 1), { maxLength: depth > 3 ? 1 : 3 });
      break;
    case 'Map':
    case 'ParameterizedMap':
      good = fc.dictionary(fc.string({ maxLength: 4 }), value(children as Spec, depth + 1), {
        maxKeys: depth > 3 ? 1 : 3,
      });
      break;
    default:
      throw new Error(`a type the test does not know: ${type}`);
  }
  return fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: wrong });
}

/** A structure with some of its members, now and then one it does not have. */
function members(fields: Fields, depth: number): fc.Arbitrary<unknown> {
  const known = fc.record(
    Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, value(s, depth + 1)])),
    { requiredKeys: [] },
  );
  return fc.oneof(
    { weight: 15, arbitrary: known },
    {
      weight: 1,
      // A member it does not describe, some of them names every object has.
      arbitrary: fc
        .tuple(
          known,
          fc.constantFrom('Unknown', 'constructor', 'toString', 'hasOwnProperty'),
          wrong,
        )
        .map(([k, name, w]) => ({ ...(k as object), [name]: w })),
    },
  );
}

/** What a check gives for a request parsed from JSON, or the error it throws. */
function outcome(check: Validations, request: unknown, types: Fields) {
  const data = JSON.parse(JSON.stringify(request)) as unknown;
  try {
    return { value: check.checkTypes(data, types) };
  } catch (error) {
    const e = error as { statusCode?: number; body?: unknown; message?: string };
    return { error: e.message, statusCode: e.statusCode, body: e.body };
  }
}

describe("dynalite's type check without a copy", () => {
  it('knows every operation dynalite serves', () => {
    expect(operations.map((o) => o.name)).toEqual(
      expect.arrayContaining(['putItem', 'batchWriteItem', 'query', 'updateItem', 'createTable']),
    );
  });

  for (const { name, types } of operations)
    it(`gives what dynalite's own check gives for ${name}, errors included`, () => {
      fc.assert(
        fc.property(members(types, 0), (request) => {
          expect(outcome(ours, request, types)).toEqual(outcome(theirs, request, types));
        }),
        { numRuns: 600 },
      );
    });

  it('passes a request of the described types on as it is, without a copy', () => {
    const types = operations.find((o) => o.name === 'batchWriteItem')?.types as Fields;
    const request = {
      RequestItems: {
        events: [
          {
            PutRequest: {
              Item: {
                pk: { S: 'match#1' },
                n: { N: '12.5' },
                b: { B: 'AQID' },
                l: { L: [{ M: { x: { BOOL: true } } }, { NULL: true }] },
                ss: { SS: ['a', 'b'] },
              },
            },
          },
          { DeleteRequest: { Key: { pk: { S: 'match#2' } } } },
        ],
      },
      ReturnConsumedCapacity: 'NONE',
    };
    expect(ours.checkTypes(request, types)).toBe(request);
    expect(theirs.checkTypes(structuredClone(request), types)).toEqual(request);
    // A value not as described, and dynalite's own check decides: here it converts it.
    const query = operations.find((o) => o.name === 'query')?.types as Fields;
    const withLimit = { TableName: 'events', Limit: 5.5 };
    expect(ours.checkTypes(withLimit, query)).toEqual({ TableName: 'events', Limit: 5 });
    expect(ours.checkTypes(withLimit, query)).not.toBe(withLimit);
  });

  it('runs from its source text, as a server thread runs it, once per module', () => {
    const validations = freshValidations();
    const [patch] = dynaliteTypePatches();
    expect(patch?.module).toBe(dynalitesValidations());
    const apply = new Function(`return (${patch?.source})`)() as (v: Validations) => void;
    apply(validations);
    const patched = validations.checkTypes;
    apply(validations);
    expect(validations.checkTypes).toBe(patched);
    const types = operations.find((o) => o.name === 'getItem')?.types as Fields;
    const request = { TableName: 'events', Key: { pk: { S: 'a' } }, ConsistentRead: true };
    expect(validations.checkTypes(request, types)).toBe(request);
  });
});
