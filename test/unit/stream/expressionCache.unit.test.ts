import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { expressionCachePatches, parseOnce } from '../../../stream/local/expressionCache.js';

interface Context {
  attrNames?: Record<string, string>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames: Record<string, true>;
  unusedAttrVals: Record<string, true>;
  isKeyCondition?: boolean;
  isReserved: (name: string) => boolean;
  compare: (op: string, a: unknown, b: unknown) => boolean;
}
interface Parser {
  parse(text: string, options: { context: Context }): unknown;
}

const dynaliteRequire = createRequire(createRequire(import.meta.url).resolve('dynalite'));
const conditionParser = dynaliteRequire('./db/conditionParser') as Parser;
const db = dynaliteRequire('./db') as { compare: Context['compare'] };

/** dynalite's condition parser behind an object of its own, patched (the module stays as it is). */
function patchedParser(): { parser: Parser; calls: () => number } {
  let calls = 0;
  const parser: Parser = {
    parse: (text, options) => {
      calls++;
      return conditionParser.parse(text, options);
    },
  };
  parseOnce(parser);
  return { parser, calls: () => calls };
}

/** A context as dynalite's validation builds it for a request with these names and values. */
function context(names?: Record<string, string>, values?: Record<string, unknown>): Context {
  return {
    ...(names ? { attrNames: names } : {}),
    ...(values ? { attrVals: values } : {}),
    unusedAttrNames: Object.fromEntries(Object.keys(names ?? {}).map((k) => [k, true])),
    unusedAttrVals: Object.fromEntries(Object.keys(values ?? {}).map((k) => [k, true])),
    isReserved: () => false,
    compare: db.compare,
  };
}

describe("dynalite's expressions parsed once", () => {
  it('give what a parse gives, as a copy of its own each time', () => {
    const { parser, calls } = patchedParser();
    const text = '#s = :s AND attribute_not_exists(aggregate_id)';
    const make = () => context({ '#s': 'status' }, { ':s': { S: 'live' } });
    const expected = conditionParser.parse(text, { context: make() });

    const first = parser.parse(text, { context: make() });
    const second = parser.parse(text, { context: make() });
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    expect(second).not.toBe(first);
    expect(calls()).toBe(1);

    // What a caller does to its copy is not what the next one gets.
    (second as { type: string }).type = 'changed';
    expect(parser.parse(text, { context: make() })).toEqual(expected);
  });

  it('mark the names and values the expression uses as used, as a parse does', () => {
    const { parser } = patchedParser();
    const text = '#s = :s';
    const values = { ':s': { S: 'live' }, ':extra': { S: 'x' } };
    const fresh = context({ '#s': 'status' }, values);
    conditionParser.parse(text, { context: fresh });
    expect(fresh.unusedAttrNames).toEqual({});
    expect(fresh.unusedAttrVals).toEqual({ ':extra': true });

    parser.parse(text, { context: context({ '#s': 'status' }, values) });
    const again = context({ '#s': 'status' }, values);
    parser.parse(text, { context: again });
    expect(again.unusedAttrNames).toEqual({});
    expect(again.unusedAttrVals).toEqual({ ':extra': true });
  });

  it('are parsed again for other names or values', () => {
    const { parser, calls } = patchedParser();
    const a = parser.parse('n = :v', { context: context(undefined, { ':v': { N: '1' } }) });
    const b = parser.parse('n = :v', { context: context(undefined, { ':v': { N: '2' } }) });
    expect(a).not.toEqual(b);
    expect(b).toEqual(
      conditionParser.parse('n = :v', { context: context(undefined, { ':v': { N: '2' } }) }),
    );
    expect(calls()).toBe(2);
  });

  it('keep no failure: each request gets its own error', () => {
    const { parser, calls } = patchedParser();
    const undefinedValue = () => parser.parse('n = :missing', { context: context() });
    const said =
      'An expression attribute value used in expression is not defined; attribute value: :missing';
    expect(undefinedValue()).toBe(said);
    expect(() => parser.parse('attribute_not_exists(', { context: context() })).toThrow();
    expect(() => parser.parse('attribute_not_exists(', { context: context() })).toThrow();
    expect(undefinedValue()).toBe(said);
    expect(calls()).toBe(4);
  });

  it('run from their own source in a server thread, on each of the parsers dynalite loads', () => {
    const patches = expressionCachePatches();
    expect(patches.map((p) => p.module)).toEqual(
      ['conditionParser', 'updateParser', 'projectionParser'].map((name) =>
        dynaliteRequire.resolve(`./db/${name}`),
      ),
    );
    let calls = 0;
    const parser: Parser = {
      parse: (text, options) => {
        calls++;
        return conditionParser.parse(text, options);
      },
    };
    (new Function(`return (${patches[0]?.source})`)() as (p: Parser) => void)(parser);
    parser.parse('attribute_not_exists(k)', { context: context() });
    parser.parse('attribute_not_exists(k)', { context: context() });
    expect(calls).toBe(1);
  });
});
