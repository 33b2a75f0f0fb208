import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { inStreamOrder } from '../../../stream/local/ChangeRelay.js';

const commit = (stream: string, sequence: number, at: string): Record<string, AttributeValue> => ({
  aggregate_id: { S: stream },
  sequence: { N: String(sequence) },
  committed_at: { S: at },
});
const named = (items: Record<string, AttributeValue>[]) =>
  items.map((i) => `${i.aggregate_id?.S}#${i.sequence?.N}`);

describe('inStreamOrder', () => {
  it('puts each stream back in sequence order in the places its commits hold', () => {
    const t = '2026-09-05T18:00:00.000Z';
    // As dynalite's index gave five commits stamped in one millisecond.
    const given = [
      commit('x', 9, t),
      commit('x', 10, t),
      commit('b', 1, t),
      commit('x', 2, t),
      commit('x', 1, t),
    ];

    expect(named(inStreamOrder(given))).toEqual(['x#1', 'x#2', 'b#1', 'x#9', 'x#10']);
    // The input is left as it was.
    expect(named(given)).toEqual(['x#9', 'x#10', 'b#1', 'x#2', 'x#1']);
  });

  it('orders a stream by sequence when a clock set back stamped its later commit earlier', () => {
    const given = [
      commit('x', 2, '2026-09-05T18:00:00.000Z'),
      commit('y', 1, '2026-09-05T18:00:00.500Z'),
      commit('x', 1, '2026-09-05T18:00:01.000Z'),
    ];

    expect(named(inStreamOrder(given))).toEqual(['x#1', 'y#1', 'x#2']);
  });
});
