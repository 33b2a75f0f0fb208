import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchWriteReliably, requestBytesBound } from '../../../stream/aws/dynamoBatch.js';

/** An attribute value as DynamoDB's JSON wire format carries it: bytes as base64. */
function wire(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(wire);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wire(v)]));
  return value;
}
const wireBytes = (json: unknown) => Buffer.byteLength(JSON.stringify(wire(json)), 'utf8');

// Strings of every kind of code unit: quotes and backslashes, control characters, non-ASCII,
// astral characters and lone surrogates (each escaped or encoded differently).
const text = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', 'é', '€', '😀', '\ud800', '\udfff'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  ),
  maxLength: 40,
});
const bytes = fc.uint8Array({ maxLength: 100 });
const value: fc.Arbitrary<AttributeValue> = fc.letrec<{ value: AttributeValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text.map((S) => ({ S })),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ N: String(n) })),
    bytes.map((B) => ({ B })),
    fc.boolean().map((BOOL) => ({ BOOL })),
    fc.constant({ NULL: true }),
    fc.array(text, { minLength: 1, maxLength: 4 }).map((SS) => ({ SS })),
    fc.array(fc.integer().map(String), { minLength: 1, maxLength: 4 }).map((NS) => ({ NS })),
    fc.array(bytes, { minLength: 1, maxLength: 3 }).map((BS) => ({ BS })),
    fc.array(tie('value'), { maxLength: 4 }).map((L) => ({ L })),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }).map((M) => ({ M })),
  ),
})).value;
const item = fc.dictionary(text, value, { minKeys: 1, maxKeys: 6 });

describe('the bytes a write takes in a BatchWriteItem request', () => {
  it('are never more than the bound, for a put or a delete, whatever the item holds', () => {
    fc.assert(
      fc.property(item, (i) => {
        const bound = requestBytesBound(i);
        // The entry as the request carries it, and the comma after it.
        expect(bound).toBeGreaterThanOrEqual(wireBytes({ PutRequest: { Item: i } }) + 1);
        expect(bound).toBeGreaterThanOrEqual(wireBytes({ DeleteRequest: { Key: i } }) + 1);
      }),
      { numRuns: 2000 },
    );
  });

  it("are counted close enough for a read model's document that it never splits a call", () => {
    const doc = { pk: { S: 'team#Alpha' }, sk: { S: '2026-09-01#match:2026-0001' } };
    const json = JSON.stringify({ home_team: 'Alpha', away_team: 'Beta', goals: [2, 1] });
    // 25 documents of 2 KB of JSON text: a call's worth, far under 16 MB either way.
    const big = { ...doc, doc: { S: json.repeat(40) } };
    expect(25 * requestBytesBound(big)).toBeLessThan(16 * 1024 * 1024);
  });

  it('keeps every call of a batch write under 16 MB on the wire, and writes every item', async () => {
    const calls: WriteRequest[][] = [];
    const client = {
      send: async (command: { input: { RequestItems: Record<string, WriteRequest[]> } }) => {
        calls.push(command.input.RequestItems.t ?? []);
        return { UnprocessedItems: {} };
      },
    } as unknown as DynamoDBClient;
    // 25 items of 1 MB of bytes: 1.33 MB each in base64, so no call can hold them all.
    const writes = Array.from({ length: 25 }, (_, n) => ({
      put: { pk: { S: `p${n}` }, data: { B: new Uint8Array(1_000_000).fill(n) } },
    }));

    await batchWriteReliably(client, 't', writes, ['pk']);

    expect(calls.length).toBeGreaterThan(1);
    expect(calls.flat().map((r) => r.PutRequest?.Item?.pk?.S)).toEqual(
      writes.map((w) => w.put.pk.S),
    );
    for (const call of calls)
      expect(wireBytes({ RequestItems: { t: call } })).toBeLessThanOrEqual(16 * 1024 * 1024);
  });
});

describe("a batch write's items left unprocessed", () => {
  it('are sent again until written, the others once', async () => {
    const calls: string[][] = [];
    const client = {
      send: async (command: { input: { RequestItems: Record<string, WriteRequest[]> } }) => {
        const requests = command.input.RequestItems.t ?? [];
        calls.push(
          requests.map((r) => r.PutRequest?.Item?.pk?.S ?? r.DeleteRequest?.Key?.pk?.S ?? ''),
        );
        // The first call leaves its odd items unprocessed.
        const left = calls.length === 1 ? requests.filter((_, i) => i % 2 === 1) : [];
        return { UnprocessedItems: left.length > 0 ? { t: left } : {} };
      },
    } as unknown as DynamoDBClient;
    const writes = [
      ...Array.from({ length: 5 }, (_, n) => ({ put: { pk: { S: `p${n}` } } })),
      { delete: { pk: { S: 'gone' } } },
    ];

    await batchWriteReliably(client, 't', writes, ['pk'], { baseDelayMs: 0 });

    expect(calls).toEqual([
      ['p0', 'p1', 'p2', 'p3', 'p4', 'gone'],
      ['p1', 'p3', 'gone'],
    ]);
  });
});
