import { useCallback, useMemo } from 'preact/hooks';
import type { EventCounts } from '../api/types.js';
import { count } from '../lib/format.js';
import type * as P from '../lib/plot.js';
import { numeric, ScrollingTable } from './DataTable.js';
import { PlotFigure } from './PlotFigure.js';

/**
 * The events the read models applied (the `pipeline-stats` counts, fewer than stored while they
 * catch up or for an event they gave up on), by type (a table) and by day and type (a chart).
 */
export function EventsByDay(props: { events: EventCounts }) {
  const { events } = props;
  const bars = useMemo(
    () =>
      Object.entries(events.by_day).flatMap(([day, types]) =>
        Object.entries(types).map(([type, n]) => ({
          label: day,
          type,
          n,
        })),
      ),
    [events],
  );
  const types = useMemo(
    () => Object.entries(events.by_type).sort(([, a], [, b]) => b - a),
    [events],
  );
  const days = useMemo(() => Object.keys(events.by_day).sort(), [events]);
  const plot = useCallback(
    (Plot: typeof P, width: number): P.PlotOptions => {
      // A label every few days when there are more days than fit.
      const every = Math.max(1, Math.ceil((days.length * 80) / width));
      // Bars at most 60 px wide, however few the days.
      const band = ((width - 80) / Math.max(1, days.length)) * 0.9;
      const inset = Math.max(0, (band - 60) / 2);
      return {
        ariaLabel: 'Events applied by day and type',
        height: 260,
        marginLeft: 60,
        x: {
          type: 'band',
          label: 'Day',
          domain: days,
          tickFormat: (day: string) => (days.indexOf(day) % every === 0 ? day : ''),
        },
        y: { label: 'Events', grid: true },
        color: { legend: true, type: 'categorical', scheme: 'tableau10' },
        marks: [
          Plot.barY(bars, {
            x: 'label',
            y: 'n',
            fill: 'type',
            insetLeft: inset,
            insetRight: inset,
            ariaLabel: (b: (typeof bars)[number]) => `${b.label}: ${b.n} ${b.type}`,
            title: (b: (typeof bars)[number]) =>
              `${b.label}: ${b.n.toLocaleString('en-US')} ${b.type}`,
          }),
          Plot.ruleY([0]),
        ],
      };
    },
    [bars, days],
  );
  return (
    <>
      <p>
        <strong id="events-total">{count(events.total)}</strong> events applied to the read models
        (what they have not applied yet, or gave up on, is not counted).
      </p>
      {bars.length > 0 && (
        <PlotFigure id="events-chart" plot={plot} caption="Events applied per day, by type" />
      )}
      <ScrollingTable
        label="Events by type"
        id="events-by-type"
        caption="Events by type"
        headings={['Type', ...numeric('Events')]}
      >
        {types.map(([type, n]) => (
          <tr key={type}>
            <th scope="row">{type}</th>
            <td class="num">{count(n)}</td>
          </tr>
        ))}
      </ScrollingTable>
    </>
  );
}
