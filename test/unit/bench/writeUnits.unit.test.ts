import { describe, expect, it } from 'vitest';
import { ItemSizes } from '../../../bench/writes.js';

const TABLE = 'matchstream-rm-matches-v3';
const key = { pk: { S: 'team#A' }, sk: { S: '2026' } };
/** An attribute of about `kb` KB (its name and value). */
const kbOf = (kb: number) => ({ S: 'x'.repeat(kb * 1024 - 40) });

// DynamoDB bills a write in 1 KB units, at least 1: a PutItem or an UpdateItem by the larger
// of the item's size before and after it, a DeleteItem by the size of the item deleted
// (Developer Guide, "Capacity unit consumption for write operations").
describe('the write units a write bills', () => {
  it('bills an update by the larger of the item before and after, however little it adds', () => {
    const sizes = new ItemSizes();
    expect(sizes.put(TABLE, { ...key, 'e:a': kbOf(6) })).toBe(6);
    const small = {
      Key: key,
      UpdateExpression: 'SET #e0 = :e0',
      ExpressionAttributeNames: { '#e0': 'e:b' },
      ExpressionAttributeValues: { ':e0': { S: 'y'.repeat(100) } },
    };
    // One small entry added to a 6 KB item: 7 units (6 KB and a little), not 1.
    expect(sizes.update(TABLE, small)).toBe(7);
    // Removing the large entry: billed by the item before (still 7), the item after is small.
    expect(
      sizes.update(TABLE, {
        Key: key,
        UpdateExpression: 'REMOVE #e0',
        ExpressionAttributeNames: { '#e0': 'e:a' },
      }),
    ).toBe(7);
    expect(sizes.update(TABLE, small)).toBe(1);
  });

  it('bills a put replacing a larger item by the larger one, a delete by the item deleted', () => {
    const sizes = new ItemSizes();
    expect(sizes.put(TABLE, { ...key, doc: kbOf(2) })).toBe(2);
    expect(sizes.put(TABLE, { ...key, doc: { S: 'small' } })).toBe(2);
    expect(sizes.put(TABLE, { ...key, doc: { S: 'small' } })).toBe(1);
    expect(sizes.put(TABLE, { ...key, doc: kbOf(3) })).toBe(3);
    expect(sizes.delete(TABLE, key)).toBe(3);
    expect(sizes.delete(TABLE, key)).toBe(1);
  });
});
