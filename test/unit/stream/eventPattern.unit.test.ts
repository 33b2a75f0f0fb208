import { describe, expect, it } from 'vitest';
import {
  type BusEvent,
  compilePattern,
  type EventPattern,
  EventPatternError,
  matchesPattern,
} from '../../../stream/buses/eventPattern.js';

/** An event as a bus delivers it, with `detail` replaced. */
function busEvent(detail: BusEvent = {}, overrides: BusEvent = {}): BusEvent {
  return {
    version: '0',
    id: '0d6f3b8e-5c39-4f7a-9d0e-2b1c7a4e8f10',
    'detail-type': 'Match Result Recorded',
    source: 'matchstream.ingest',
    account: '123456789012',
    time: '2025-10-04T19:30:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:event-bus/matches'],
    detail,
    ...overrides,
  };
}

/** Each row: a pattern, the event's detail, whether it matches. */
type Row = readonly [string, EventPattern, BusEvent, boolean];

function expectRows(rows: readonly Row[]): void {
  for (const [label, pattern, detail, expected] of rows) {
    // Act
    const actual = matchesPattern(pattern, busEvent(detail));

    // Assess
    expect(actual, label).toBe(expected);
  }
}

describe('exact values', () => {
  it('matches strings character by character, case included', () => {
    // Prepare
    const pattern = { source: ['matchstream.ingest', 'matchstream.replay'] };

    // Act
    const same = matchesPattern(pattern, busEvent());
    const otherCase = matchesPattern(pattern, busEvent({}, { source: 'Matchstream.Ingest' }));

    // Assess
    expect(same).toBe(true);
    expect(otherCase).toBe(false);
  });

  it('ignores fields the pattern does not name and requires those it names', () => {
    // Prepare
    const pattern = { detail: { venue: ['Koskinen Stadium'] } };

    // Act
    const named = matchesPattern(pattern, busEvent({ venue: 'Koskinen Stadium', attendance: 3 }));
    const missing = matchesPattern(pattern, busEvent({ attendance: 3 }));

    // Assess
    expect(named).toBe(true);
    expect(missing).toBe(false);
  });

  it('keeps numbers, booleans, null and the empty string apart from look-alikes', () => {
    expectRows([
      ['number = number', { detail: { goals: [3] } }, { goals: 3 }, true],
      ['number vs its text', { detail: { goals: [3] } }, { goals: '3' }, false],
      ['text vs a number', { detail: { goals: ['3'] } }, { goals: 3 }, false],
      ['3.0e2 parses to 300', JSON.parse('{"detail":{"n":[3.0e2]}}'), { n: 300 }, true],
      ['true = true', { detail: { final: [true] } }, { final: true }, true],
      ['true vs "true"', { detail: { final: [true] } }, { final: 'true' }, false],
      ['true vs 1', { detail: { final: [true] } }, { final: 1 }, false],
      ['null = null', { detail: { referee: [null] } }, { referee: null }, true],
      ['null vs ""', { detail: { referee: [null] } }, { referee: '' }, false],
      ['null vs missing', { detail: { referee: [null] } }, {}, false],
      ['"" = ""', { detail: { note: [''] } }, { note: '' }, true],
      ['"" vs null', { detail: { note: [''] } }, { note: null }, false],
    ]);
  });
});

describe('arrays in events', () => {
  it('matches when any element of the event array matches', () => {
    // Prepare
    const pattern = { resources: ['arn:aws:s3:::feeds', 'arn:aws:s3:::archive'] };
    const event = busEvent({}, { resources: ['arn:aws:s3:::raw', 'arn:aws:s3:::archive'] });

    // Act
    const matched = matchesPattern(pattern, event);

    // Assess
    expect(matched).toBe(true);
  });

  it('crushes nested arrays and treats an empty array as no value', () => {
    expectRows([
      ['nested arrays', { detail: { ids: [7] } }, { ids: [[1], [2, [7]]] }, true],
      ['empty array vs null', { detail: { ids: [null] } }, { ids: [] }, false],
      ['empty array is absent', { detail: { ids: [{ exists: false }] } }, { ids: [] }, true],
      ['empty array not present', { detail: { ids: [{ exists: true }] } }, { ids: [] }, false],
      [
        'any element passes anything-but',
        { detail: { ids: [{ 'anything-but': [1] }] } },
        { ids: [1, 2] },
        true,
      ],
      [
        'no element passes anything-but',
        { detail: { ids: [{ 'anything-but': [1, 2] }] } },
        { ids: [1, 2] },
        false,
      ],
    ]);
  });
});

describe('nested objects', () => {
  it('descends into objects level by level', () => {
    expectRows([
      ['two levels', { detail: { score: { home: [2] } } }, { score: { home: 2, away: 1 } }, true],
      ['wrong value', { detail: { score: { home: [3] } } }, { score: { home: 2 } }, false],
      [
        'scalar where an object is wanted',
        { detail: { score: { home: [2] } } },
        { score: 2 },
        false,
      ],
      ['object where a value is wanted', { detail: { score: [2] } }, { score: { home: 2 } }, false],
    ]);
  });

  it('descends into arrays of objects, taking each field from the same element', () => {
    // Prepare
    const players = [
      { name: 'Ada', goals: 2 },
      { name: 'Bea', goals: 0 },
    ];
    const sameElement = { detail: { players: { name: ['Bea'], goals: [0] } } };
    const acrossElements = { detail: { players: { name: ['Bea'], goals: [2] } } };

    // Act
    const same = matchesPattern(sameElement, busEvent({ players }));
    const across = matchesPattern(acrossElements, busEvent({ players }));

    // Assess
    expect(same).toBe(true);
    expect(across).toBe(false);
  });
});

describe('string operators', () => {
  it('prefix and suffix, exact case or ignoring it, on strings only', () => {
    expectRows([
      [
        'prefix',
        { detail: { team: [{ prefix: 'Univ' }] } },
        { team: 'University of Portland' },
        true,
      ],
      ['prefix case', { detail: { team: [{ prefix: 'univ' }] } }, { team: 'University' }, false],
      ['empty prefix', { detail: { team: [{ prefix: '' }] } }, { team: 'x' }, true],
      ['prefix on a number', { detail: { code: [{ prefix: '4' }] } }, { code: 42 }, false],
      [
        'prefix ignoring case',
        { detail: { team: [{ prefix: { 'equals-ignore-case': 'uNIV' } }] } },
        { team: 'University' },
        true,
      ],
      ['suffix', { detail: { file: [{ suffix: '.csv' }] } }, { file: 'season-2025.csv' }, true],
      ['suffix case', { detail: { file: [{ suffix: '.csv' }] } }, { file: 'SEASON.CSV' }, false],
      [
        'suffix ignoring case',
        { detail: { file: [{ suffix: { 'equals-ignore-case': '.Csv' } }] } },
        { file: 'SEASON.CSV' },
        true,
      ],
      ['suffix on null', { detail: { file: [{ suffix: 'l' }] } }, { file: null }, false],
    ]);
  });

  it('equals-ignore-case compares whole strings regardless of case', () => {
    expectRows([
      [
        'other case',
        { detail: { result: [{ 'equals-ignore-case': 'draw' }] } },
        { result: 'DRAW' },
        true,
      ],
      [
        'longer',
        { detail: { result: [{ 'equals-ignore-case': 'draw' }] } },
        { result: 'drawn' },
        false,
      ],
      ['empty', { detail: { result: [{ 'equals-ignore-case': '' }] } }, { result: '' }, true],
      [
        'boolean',
        { detail: { result: [{ 'equals-ignore-case': 'true' }] } },
        { result: true },
        false,
      ],
    ]);
  });

  it('wildcard: * is any run of characters, \\* a star and \\\\ a backslash', () => {
    expectRows([
      [
        'inner star',
        { detail: { path: [{ wildcard: 'feeds/*/games.csv' }] } },
        { path: 'feeds/2025/games.csv' },
        true,
      ],
      ['star matches nothing', { detail: { path: [{ wildcard: 'a*b' }] } }, { path: 'ab' }, true],
      ['star spans lines', { detail: { path: [{ wildcard: 'a*b' }] } }, { path: 'a\nb' }, true],
      ['whole value', { detail: { path: [{ wildcard: 'a*b' }] } }, { path: 'abc' }, false],
      ['escaped star', { detail: { path: [{ wildcard: 'a\\*b' }] } }, { path: 'a*b' }, true],
      [
        'escaped star is literal',
        { detail: { path: [{ wildcard: 'a\\*b' }] } },
        { path: 'axb' },
        false,
      ],
      [
        'escaped backslash',
        { detail: { path: [{ wildcard: 'a\\\\*' }] } },
        { path: 'a\\tail' },
        true,
      ],
      [
        'regex characters are literal',
        { detail: { path: [{ wildcard: 'a.c' }] } },
        { path: 'abc' },
        false,
      ],
      ['empty wildcard', { detail: { path: [{ wildcard: '' }] } }, { path: '' }, true],
      ['numbers never', { detail: { path: [{ wildcard: '*' }] } }, { path: 12 }, false],
    ]);
  });
});

describe('anything-but', () => {
  it('excludes a value or a list of values of one type', () => {
    expectRows([
      [
        'other string',
        { detail: { state: [{ 'anything-but': 'postponed' }] } },
        { state: 'final' },
        true,
      ],
      [
        'excluded string',
        { detail: { state: [{ 'anything-but': 'postponed' }] } },
        { state: 'postponed' },
        false,
      ],
      ['excluded number', { detail: { n: [{ 'anything-but': 123 }] } }, { n: 123 }, false],
      ['string list', { detail: { s: [{ 'anything-but': ['a', 'b'] }] } }, { s: 'b' }, false],
      ['number list', { detail: { n: [{ 'anything-but': [100, 200] }] } }, { n: 150 }, true],
      ['other type passes', { detail: { n: [{ 'anything-but': ['7'] }] } }, { n: 7 }, true],
      ['null passes', { detail: { state: [{ 'anything-but': 'final' }] } }, { state: null }, true],
      ['missing fails', { detail: { state: [{ 'anything-but': 'final' }] } }, {}, false],
    ]);
  });

  it('excludes by prefix, suffix, case-insensitive value or wildcard', () => {
    expectRows([
      [
        'prefix',
        { detail: { r: [{ 'anything-but': { prefix: 'us-' } }] } },
        { r: 'us-west-2' },
        false,
      ],
      [
        'prefix passes',
        { detail: { r: [{ 'anything-but': { prefix: 'us-' } }] } },
        { r: 'eu-west-1' },
        true,
      ],
      [
        'prefix list',
        { detail: { r: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }] } },
        { r: 'eu-west-1' },
        false,
      ],
      [
        'prefix lets a number through',
        { detail: { r: [{ 'anything-but': { prefix: 'init' } }] } },
        { r: 12 },
        true,
      ],
      [
        'suffix',
        { detail: { f: [{ 'anything-but': { suffix: '.png' } }] } },
        { f: 'logo.png' },
        false,
      ],
      [
        'suffix passes',
        { detail: { f: [{ 'anything-but': { suffix: '.png' } }] } },
        { f: 'logo.svg' },
        true,
      ],
      [
        'ignoring case',
        { detail: { s: [{ 'anything-but': { 'equals-ignore-case': 'Final' } }] } },
        { s: 'FINAL' },
        false,
      ],
      [
        'ignoring case, list',
        { detail: { s: [{ 'anything-but': { 'equals-ignore-case': ['a', 'B'] } }] } },
        { s: 'c' },
        true,
      ],
      [
        'wildcard',
        { detail: { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
        { p: 'src/lib/x.ts' },
        false,
      ],
      [
        'wildcard list passes',
        { detail: { p: [{ 'anything-but': { wildcard: ['*/lib/*', '*.md'] } }] } },
        { p: 'src/app.ts' },
        true,
      ],
      [
        'empty wildcard passes',
        { detail: { p: [{ 'anything-but': { wildcard: '' } }] } },
        { p: 'x' },
        true,
      ],
    ]);
  });
});

describe('numeric', () => {
  it('compares JSON numbers against one bound or a range', () => {
    expectRows([
      ['inside (0, 5]', { detail: { c: [{ numeric: ['>', 0, '<=', 5] }] } }, { c: 5 }, true],
      ['outside (0, 5]', { detail: { c: [{ numeric: ['>', 0, '<=', 5] }] } }, { c: 0 }, false],
      ['below', { detail: { d: [{ numeric: ['<', 10] }] } }, { d: -3.5 }, true],
      ['at least', { detail: { d: [{ numeric: ['>=', 10] }] } }, { d: 10 }, true],
      ['equals 3.018e2', { detail: { x: [{ numeric: ['=', 3.018e2] }] } }, { x: 301.8 }, true],
      ['float vs int bound', { detail: { x: [{ numeric: ['>', 100] }] } }, { x: 101.0 }, true],
      ['numeric text never', { detail: { x: [{ numeric: ['>', 0] }] } }, { x: '5' }, false],
      ['null never', { detail: { x: [{ numeric: ['<', 0] }] } }, { x: null }, false],
      ['true is no number', { detail: { x: [{ numeric: ['>', 0] }] } }, { x: true }, false],
    ]);
  });
});

describe('exists', () => {
  it('matches present leaves or absent fields', () => {
    expectRows([
      ['present', { detail: { c: [{ exists: true }] } }, { c: 0 }, true],
      ['null is present', { detail: { c: [{ exists: true }] } }, { c: null }, true],
      ['absent', { detail: { c: [{ exists: false }] } }, { d: 1 }, true],
      ['present is not absent', { detail: { c: [{ exists: false }] } }, { c: 'x' }, false],
      ['an object is not a leaf', { detail: { c: [{ exists: false }] } }, { c: { c1: 100 } }, true],
      ['so it does not exist', { detail: { c: [{ exists: true }] } }, { c: { c1: 100 } }, false],
      [
        'deep absent path',
        { detail: { a: { b: { c: [{ exists: false }] } } } },
        { a: { other: 'x' } },
        true,
      ],
      ['one of a list', { detail: { s: [{ 'anything-but': 'x' }, { exists: false }] } }, {}, true],
    ]);
  });
});

describe('cidr', () => {
  it('matches IP address strings inside the network', () => {
    expectRows([
      ['inside /24', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, { ip: '10.0.0.33' }, true],
      ['outside /24', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, { ip: '10.0.1.1' }, false],
      [
        'floored address',
        { detail: { ip: [{ cidr: '10.0.0.200/24' }] } },
        { ip: '10.0.0.1' },
        true,
      ],
      [
        'single host',
        { detail: { ip: [{ cidr: '192.168.1.9/32' }] } },
        { ip: '192.168.1.9' },
        true,
      ],
      [
        'IPv6',
        { detail: { ip: [{ cidr: '2001:db8:1234:1a00::/64' }] } },
        { ip: '2001:db8:1234:1a00::9' },
        true,
      ],
      [
        'IPv6 outside',
        { detail: { ip: [{ cidr: '2001:db8::/64' }] } },
        { ip: '2001:db9::1' },
        false,
      ],
      ['other family', { detail: { ip: [{ cidr: '0.0.0.0/0' }] } }, { ip: '::1' }, false],
      ['not an address', { detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, { ip: 'ten' }, false],
      ['a number', { detail: { ip: [{ cidr: '0.0.0.0/0' }] } }, { ip: 123 }, false],
    ]);
  });
});

describe('$or', () => {
  it('matches when one alternative matches, at the top and nested', () => {
    // Prepare
    const top = {
      source: ['matchstream.ingest'],
      $or: [{ detail: { a: [1] } }, { detail: { b: [2] } }],
    };
    const nested = {
      detail: { $or: [{ a: [{ numeric: ['>', 5] }] }, { b: [{ exists: false }] }] },
    };

    // Act
    const results = [
      matchesPattern(top, busEvent({ b: 2 })),
      matchesPattern(top, busEvent({ a: 2, b: 1 })),
      matchesPattern(nested, busEvent({ a: 9, b: 1 })),
      matchesPattern(nested, busEvent({ a: 1 })),
      matchesPattern(nested, busEvent({ a: 1, b: 1 })),
    ];

    // Assess
    expect(results).toEqual([true, false, true, true, false]);
  });

  it('needs one alternative of every $or group, at every level', () => {
    // Prepare
    const pattern = {
      $or: [{ source: ['x'] }, { 'detail-type': ['Match Result Recorded'] }],
      detail: { $or: [{ home: ['Ada'] }, { away: ['Ada'] }] },
    };

    // Act
    const both = matchesPattern(pattern, busEvent({ away: 'Ada' }));
    const onlyTop = matchesPattern(pattern, busEvent({ away: 'Bea' }));

    // Assess
    expect(both).toBe(true);
    expect(onlyTop).toBe(false);
  });
});

describe('compilePattern', () => {
  it('accepts JSON text and returns a reusable matcher', () => {
    // Prepare
    const isFinal = compilePattern('{"detail": {"state": ["final"]}}');

    // Act
    const results = [busEvent({ state: 'final' }), busEvent({ state: 'live' })].map(isFinal);

    // Assess
    expect(results).toEqual([true, false]);
  });

  it('does not match something that is not an event object', () => {
    // Prepare
    const anything = compilePattern({ source: [{ exists: false }] });

    // Act
    const result = anything([] as unknown as BusEvent);

    // Assess
    expect(result).toBe(false);
  });
});

describe('validation', () => {
  const invalid: readonly (readonly [string, EventPattern | string, string, RegExp])[] = [
    ['invalid JSON', '{"source": [', '', /not valid JSON/],
    ['an array', '["source"]', '', /not a JSON object/],
    ['an empty pattern', {}, '', /empty objects/],
    ['an empty nested object', { detail: {} }, 'detail', /empty objects/],
    ['a leaf that is a string', { source: 'x' }, 'source', /object or an array/],
    ['a leaf that is a number', { detail: { n: 42 } }, 'detail.n', /object or an array/],
    ['an empty array', { resources: [] }, 'resources', /empty arrays/],
    ['an array inside values', { detail: { n: [[1]] } }, 'detail.n', /match value/],
    [
      'an unknown operator',
      { detail: { n: [{ between: [1, 2] }] } },
      'detail.n',
      /unknown operator "between"/,
    ],
    [
      'an operator in capitals',
      { detail: { n: [{ EXISTS: true }] } },
      'detail.n',
      /unknown operator/,
    ],
    [
      'two operators in one object',
      { detail: { n: [{ prefix: 'a', suffix: 'b' }] } },
      'detail.n',
      /exactly one/,
    ],
    ['an empty operator object', { detail: { n: [{}] } }, 'detail.n', /empty/],
    ['prefix with a number', { time: [{ prefix: 2025 }] }, 'time', /prefix needs a string/],
    ['prefix with a list', { time: [{ prefix: ['2025'] }] }, 'time', /prefix needs a string/],
    [
      'prefix with another operator',
      { time: [{ prefix: { suffix: 'x' } }] },
      'time',
      /equals-ignore-case/,
    ],
    ['suffix with a list', { f: [{ suffix: ['.png'] }] }, 'f', /suffix needs a string/],
    [
      'equals-ignore-case with a list',
      { f: [{ 'equals-ignore-case': ['a'] }] },
      'f',
      /needs a string/,
    ],
    ['wildcard with **', { f: [{ wildcard: 'arn:**:bus' }] }, 'f', /consecutive wildcards at 4/],
    ['wildcard with a bad escape', { f: [{ wildcard: 'a\\b' }] }, 'f', /invalid escape at 1/],
    ['wildcard with a number', { f: [{ wildcard: 123 }] }, 'f', /wildcard needs a string/],
    ['anything-but null', { s: [{ 'anything-but': null }] }, 's', /anything-but takes/],
    [
      'anything-but boolean list',
      { s: [{ 'anything-but': [true] }] },
      's',
      /only strings or only numbers/,
    ],
    [
      'anything-but mixed list',
      { s: [{ 'anything-but': ['a', 1] }] },
      's',
      /only strings or only numbers/,
    ],
    ['anything-but empty prefix', { s: [{ 'anything-but': { prefix: '' } }] }, 's', /non-empty/],
    [
      'anything-but number suffix',
      { s: [{ 'anything-but': { suffix: 123 } }] },
      's',
      /needs a string/,
    ],
    [
      'anything-but prefix ignoring case',
      { s: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'a' } } }] },
      's',
      /needs a string/,
    ],
    [
      'anything-but number ignoring case',
      { s: [{ 'anything-but': { 'equals-ignore-case': 1 } }] },
      's',
      /needs a string/,
    ],
    [
      'anything-but numeric',
      { s: [{ 'anything-but': { numeric: ['>', 1] } }] },
      's',
      /does not take "numeric"/,
    ],
    [
      'anything-but wildcard **',
      { s: [{ 'anything-but': { wildcard: ['**'] } }] },
      's',
      /consecutive/,
    ],
    [
      'numeric not a list',
      { detail: { score: [{ numeric: 5 }] } },
      'detail.score',
      /numeric needs an operator and a number/,
    ],
    [
      'numeric without a number',
      { detail: { score: [{ numeric: ['>', 0, '<'] }] } },
      'detail.score',
      /numeric needs/,
    ],
    [
      'numeric with a text number',
      { detail: { score: [{ numeric: ['>', '0'] }] } },
      'detail.score',
      /number after ">"/,
    ],
    [
      'numeric unknown operator',
      { detail: { score: [{ numeric: ['!=', 1] }] } },
      'detail.score',
      /unknown operator "!="/,
    ],
    [
      'numeric > twice',
      { detail: { score: [{ numeric: ['>', 0, '>', 5] }] } },
      'detail.score',
      /ends with < or <=/,
    ],
    [
      'numeric range upside down',
      { detail: { score: [{ numeric: ['<', 5, '>', 0] }] } },
      'detail.score',
      /starts with > or >=/,
    ],
    [
      'numeric empty range',
      { detail: { score: [{ numeric: ['>=', 5, '<=', 5] }] } },
      'detail.score',
      /bottom below its top/,
    ],
    ['exists not boolean', { detail: { c: [{ exists: 'yes' }] } }, 'detail.c', /true or false/],
    ['cidr without a mask', { ip: [{ cidr: '10.0.0.0' }] }, 'ip', /one "\/"/],
    [
      'cidr with a bad mask',
      { ip: [{ cidr: 'bad-/64filter' }] },
      'ip',
      /mask bits must be an integer/,
    ],
    ['cidr with a bad address', { ip: [{ cidr: 'xx.11.xx/8' }] }, 'ip', /bad IP address/],
    ['cidr mask too long', { ip: [{ cidr: '10.0.0.0/33' }] }, 'ip', /at most 32/],
    ['cidr not a string', { ip: [{ cidr: ['10.0.0.0/8'] }] }, 'ip', /cidr needs a string/],
    ['$or not a list', { $or: { a: [1] } }, '$or', /array of objects/],
    ['$or with one alternative', { detail: { $or: [{ a: [1] }] } }, 'detail.$or', /at least 2/],
    ['$or with a value', { $or: [{ a: [1] }, 'b'] }, '$or[1]', /must be an object/],
    ['$or with an empty object', { $or: [{ a: [1] }, {}] }, '$or[1]', /empty objects/],
    [
      'an operator name as a field in $or',
      { $or: [{ numeric: [1] }, { b: [1] }] },
      '$or[0].numeric',
      /reserved/,
    ],
  ];

  it.each(invalid)('refuses %s', (_label, pattern, path, message) => {
    // Act
    const compile = () => compilePattern(pattern);

    // Assess
    expect(compile).toThrow(EventPatternError);
    expect(compile).toThrow(message);
    try {
      compile();
    } catch (error) {
      expect(error).toMatchObject({
        name: 'EventPatternError',
        code: 'INVALID_EVENT_PATTERN',
        path,
      });
    }
  });

  it('names the path in the message', () => {
    // Prepare
    const pattern = { detail: { score: [{ numeric: ['>'] }] } };

    // Act
    const compile = () => compilePattern(pattern);

    // Assess
    expect(compile).toThrow(/^detail\.score: numeric needs an operator and a number/);
  });

  it('accepts operator names as ordinary fields outside $or', () => {
    // Prepare
    const pattern = { detail: { prefix: ['x'] } };

    // Act
    const matched = matchesPattern(pattern, busEvent({ prefix: 'x' }));

    // Assess
    expect(matched).toBe(true);
  });
});
