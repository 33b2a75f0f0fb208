import { describe, expect, it } from 'vitest';
import type { BusArchive } from '../../stream/buses/BusArchive.js';
import type { BusEvent } from '../../stream/buses/eventPattern.js';

/** What the contract needs of an adapter under test. */
export interface ArchiveUnderTest {
  /** An archive on the adapter's storage; each call is another process opening it. */
  open(): BusArchive;
}

let counter = 0;
/** A bus name no other test of the run uses (adapters may share one table). */
function busName(): string {
  counter++;
  return `bus-${process.pid}-${counter}`;
}

function busEvent(n: number, time: string): BusEvent {
  return {
    version: '0',
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    'detail-type': 'MatchRecorded',
    source: 'matchstream.soccer',
    account: '000000000000',
    time,
    region: 'us-east-1',
    resources: [],
    detail: { event_id: `e${n}`, data: { home_goals: n } },
  };
}

/**
 * The contract of a local bus's archive (every event the bus received, for replay): every
 * adapter must pass exactly these tests.
 */
export function busArchiveContract(name: string, setup: () => ArchiveUnderTest): void {
  describe(`BusArchive contract: ${name}`, () => {
    it('has nothing for a bus that received nothing', async () => {
      expect(await setup().open().between(busName())).toEqual([]);
    });

    it('gives back the events a bus received, oldest first, whatever order they came in', async () => {
      // Prepare: results arrive as they are reported, not in the order they were played.
      const archive = setup().open();
      const bus = busName();
      const events = [
        busEvent(3, '2026-09-03T20:00:00Z'),
        busEvent(1, '2026-09-01T20:00:00Z'),
        busEvent(2, '2026-09-02T20:00:00Z'),
      ];

      // Act
      await archive.add(bus, events.slice(0, 2));
      await archive.add(bus, events.slice(2));

      // Assess
      expect(await archive.between(bus)).toEqual([events[1], events[2], events[0]]);
    });

    it('gives back those between two instants, both included', async () => {
      const archive = setup().open();
      const bus = busName();
      const events = [1, 2, 3, 4].map((n) => busEvent(n, `2026-09-0${n}T20:00:00Z`));
      await archive.add(bus, events);

      expect(await archive.between(bus, '2026-09-02T20:00:00Z', '2026-09-03T20:00:00Z')).toEqual(
        events.slice(1, 3),
      );
      expect(await archive.between(bus, '2026-09-03T00:00:00Z')).toEqual(events.slice(2));
      expect(await archive.between(bus, undefined, '2026-09-01T20:00:00Z')).toEqual(
        events.slice(0, 1),
      );
    });

    it('keeps each bus apart, and is read by another process', async () => {
      const under = setup();
      const [soccer, metadata] = [busName(), busName()];

      await under.open().add(soccer, [busEvent(1, '2026-09-01T20:00:00Z')]);
      await under.open().add(metadata, [busEvent(2, '2026-09-01T20:00:00Z')]);

      expect((await under.open().between(soccer)).map((e) => e.id)).toEqual([busEvent(1, '').id]);
      expect((await under.open().between(metadata)).map((e) => e.id)).toEqual([busEvent(2, '').id]);
    });

    it('keeps hundreds of events added at once', async () => {
      const archive = setup().open();
      const bus = busName();
      const events = Array.from({ length: 260 }, (_, n) =>
        busEvent(
          n,
          `2026-09-01T20:${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}Z`,
        ),
      );

      await archive.add(bus, events);

      expect(await archive.between(bus)).toEqual(events);
    });
  });
}
