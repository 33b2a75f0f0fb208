import { describe, expect, it } from 'vitest';
import { busEntryOf } from '../../../stream/buses/BusPublisher.js';
import { deliveredEnvelope, fitted } from '../../../stream/buses/claimCheck.js';
import { InMemoryEventStore } from '../../../stream/eventStore/InMemoryEventStore.js';
import { matchRecorded, registry, rpiCalculated } from '../../support/registry.js';

const CALCULATION = '0b6f5a3e-8a1c-4d2b-9f4e-2c7d1a9e5b3f';

/** A calculation of 2,000 teams, as the saga stores it: about 370 KB as JSON. */
const rankings = Array.from({ length: 2000 }, (_, i) => ({
  rank: i + 1,
  team: `Team number ${i} of the season`,
  games: 20,
  wins: 10,
  losses: 8,
  ties: 2,
  wp: 0.55 + i / 1e7,
  owp: 0.5123456789012345,
  oowp: 0.4987654321098765,
  rpi: 0.5071234567890123,
  unadjusted_rank: null,
  unadjusted_rpi: null,
  adjustment: null,
  bonus: null,
}));

async function stored() {
  const store = new InMemoryEventStore(registry);
  const { events } = await store.append(`rpi:${CALCULATION}`, 0, [
    { event_type: 'RpiCalculated', data: rpiCalculated(CALCULATION, { rankings }) },
  ]);
  const { events: small } = await store.append('match:m1', 0, [
    { event_type: 'MatchRecorded', data: matchRecorded('m1') },
  ]);
  return { store, large: events[0], small: small[0] };
}

describe('claim checks for events too large for a bus', () => {
  it('sends a large event as its envelope without data, and reads the data back from the store', async () => {
    const { store, large, small } = await stored();
    if (!large || !small) throw new Error('not stored');

    const claimed = fitted(busEntryOf(large), 'matchstream-calculation');
    const kept = fitted(busEntryOf(small), 'matchstream-soccer');
    const replayed = fitted(busEntryOf(large, { replayed: true }), 'matchstream-calculation');

    expect(JSON.stringify(large).length).toBeGreaterThan(262_144);
    expect(claimed.size).toBeLessThan(1_000);
    expect(claimed.entry.detail).not.toHaveProperty('data');
    expect(claimed.entry.detail).toMatchObject({ claim_check: true, event_id: large.event_id });
    expect(kept.entry).toEqual(busEntryOf(small));
    expect(
      await deliveredEnvelope(JSON.parse(claimed.request.Detail ?? ''), registry, store),
    ).toEqual(large);
    expect(
      await deliveredEnvelope(JSON.parse(replayed.request.Detail ?? ''), registry, store),
    ).toEqual({ ...large, replayed: true });
    expect(await deliveredEnvelope(JSON.parse(kept.request.Detail ?? ''), registry, store)).toEqual(
      small,
    );
  });

  it('refuses a claim check of an event the store does not hold, naming it', async () => {
    const { store, large } = await stored();
    if (!large) throw new Error('not stored');
    const claim = fitted(busEntryOf(large), 'matchstream-calculation').entry.detail;

    await expect(
      deliveredEnvelope({ ...claim, event_id: 'another' }, registry, store),
    ).rejects.toThrow(`a claim check of rpi:${CALCULATION} #1: the store holds no such event`);
    await expect(deliveredEnvelope({ ...claim, sequence: 2 }, registry, store)).rejects.toThrow(
      `a claim check of rpi:${CALCULATION} #2: the store holds no such event`,
    );
  });
});
