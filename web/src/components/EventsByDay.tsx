import * as Plot from '@observablehq/plot';
import { useCallback, useMemo } from 'preact/hooks';
import type { EventCounts } from '../api/types.js';
import { count } from '../lib/format.js';
import { PlotFigure } from './PlotFigure.js';
import { ScrollArea } from './ScrollArea.js';

/** The events stored, by type (a table) and by day and type (a stacked bar chart). */
export function EventsByDay(props: { events: EventCounts }) {
  const { events } = props;
  const bars = useMemo(
    () =>
      Object.entries(events.by_day).flatMap(([day, types]) =>
        Object.entries(types).map(([type, n]) => ({
          day: new Date(`${day}T00:00:00Z`),
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
  const plot = useCallback(
    (): Plot.PlotOptions => ({
      ariaLabel: 'Events stored by day and type',
      height: 260,
      marginLeft: 60,
      x: { type: 'utc', label: 'Day', interval: 'day' },
      y: { label: 'Events', grid: true },
      color: { legend: true, type: 'categorical', scheme: 'tableau10' },
      marks: [
        Plot.rectY(bars, {
          x: 'day',
          y: 'n',
          fill: 'type',
          interval: 'day',
          ariaLabel: (b: (typeof bars)[number]) => `${b.label}: ${b.n} ${b.type}`,
          title: (b: (typeof bars)[number]) =>
            `${b.label}: ${b.n.toLocaleString('en-US')} ${b.type}`,
        }),
        Plot.ruleY([0]),
      ],
    }),
    [bars],
  );
  return (
    <>
      <p>
        <strong id="events-total">{count(events.total)}</strong> events stored.
      </p>
      {bars.length > 0 && (
        <PlotFigure id="events-chart" plot={plot} caption="Events stored per day, by type" />
      )}
      <ScrollArea label="Events by type">
        <table id="events-by-type">
          <caption>Events by type</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col" class="num">
                Events
              </th>
            </tr>
          </thead>
          <tbody>
            {types.map(([type, n]) => (
              <tr key={type}>
                <th scope="row">{type}</th>
                <td class="num">{count(n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollArea>
    </>
  );
}
