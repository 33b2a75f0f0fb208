import { useCallback, useMemo } from 'preact/hooks';
import { apiUrl } from '../api/client.js';
import type { ConsumerSample, Consumers, Health } from '../api/types.js';
import { numeric, ScrollingTable } from '../components/DataTable.js';
import { Pending } from '../components/Pending.js';
import { PlotFigure } from '../components/PlotFigure.js';
import { timeAxis } from '../lib/axes.js';
import { count, duration, instant } from '../lib/format.js';
import type * as P from '../lib/plot.js';
import { useAnswer } from '../lib/useAnswer.js';
import { useTick } from '../lib/useTick.js';

/** The stream's consumers: lag over the last minutes, applied counts, read-model generations. */
export function ConsumersView() {
  const tick = useTick(5_000);
  const consumers = useAnswer<Consumers>(apiUrl('consumers'), tick);
  const health = useAnswer<Health>(
    consumers?.kind === 'unavailable' ? apiUrl('health') : undefined,
    tick,
  );
  return (
    <>
      <h2 tabIndex={-1}>Consumers</h2>
      {consumers?.kind === 'unavailable' ? (
        <>
          <p class="note unavailable" data-state="unavailable">
            Lag over time and read-model generations: not available on this server (
            {consumers.status}).
          </p>
          <Pending answer={health} what="the consumers">
            {(h) => <Applied consumers={h.consumers} />}
          </Pending>
        </>
      ) : (
        <Pending answer={consumers} what="the consumers">
          {(c) => <ConsumerPanels consumers={c} />}
        </Pending>
      )}
    </>
  );
}

function ConsumerPanels(props: { consumers: Consumers }) {
  const { samples, read_models } = props.consumers;
  const points = useMemo(
    () =>
      samples.flatMap((s) =>
        s.consumers.map((c) => ({ at: new Date(s.at), name: c.name, lag: c.lag_ms })),
      ),
    [samples],
  );
  const plot = useCallback(
    (Plot: typeof P, width: number): P.PlotOptions => ({
      ariaLabel: 'Lag per consumer over the last minutes',
      height: 240,
      marginLeft: 60,
      x: timeAxis('Time', width, 120),
      // At least up to 100 ms: a pipeline keeping up has a flat line at 0, not a collapsed axis.
      y: {
        label: 'Lag (ms)',
        grid: true,
        domain: [0, Math.max(100, ...points.map((p) => p.lag))],
      },
      color: { legend: true, scheme: 'dark2' },
      marks: [
        Plot.lineY(points, { x: 'at', y: 'lag', stroke: 'name', ariaHidden: 'true' }),
        Plot.dot(points, {
          x: 'at',
          y: 'lag',
          fill: 'name',
          r: 2.5,
          ariaHidden: 'true',
        }),
      ],
    }),
    [points],
  );
  const latest = samples[samples.length - 1]?.consumers ?? [];
  return (
    <>
      {points.length > 0 ? (
        <PlotFigure
          id="lag-chart"
          plot={plot}
          caption={`Lag per consumer, ${samples.length} samples since ${instant(samples[0]?.at)}`}
        />
      ) : (
        <p class="note">No lag sample yet.</p>
      )}
      <Applied consumers={latest} />
      <h3>Read models</h3>
      <ScrollingTable
        label="Read-model generations"
        id="generations"
        caption="Read-model generations: which is live, which is rebuilding"
        headings={[
          'Read model',
          ...numeric('Generation'),
          'Status',
          'Created',
          'Built',
          'Progress',
        ]}
      >
        {read_models.flatMap((model) =>
          model.generations.map((g) => (
            <tr key={`${model.name}/${g.generation}`} data-status={g.status}>
              <th scope="row">{model.name}</th>
              <td class="num">
                {g.generation}
                {g.generation === model.active ? ' (active)' : ''}
              </td>
              <td>
                <span
                  class={`badge ${g.status === 'live' ? 'good' : g.status === 'building' ? 'warn' : ''}`}
                >
                  {g.status}
                </span>
              </td>
              <td>{instant(g.created_at)}</td>
              <td>{instant(g.built_at)}</td>
              <td>
                {g.progress
                  ? `${count(g.progress.applied)} applied, lag ${duration(g.progress.lag_ms)}`
                  : '–'}
              </td>
            </tr>
          )),
        )}
      </ScrollingTable>
    </>
  );
}

function Applied(props: { consumers: readonly ConsumerSample[] }) {
  return (
    <ScrollingTable
      label="Consumers now"
      id="consumers"
      caption="Consumers now: lag and events applied"
      headings={['Consumer', ...numeric('Lag', 'Applied')]}
    >
      {props.consumers.map((c) => (
        <tr key={c.name}>
          <th scope="row">{c.name}</th>
          <td class="num">{duration(c.lag_ms)}</td>
          <td class="num">{count(c.applied)}</td>
        </tr>
      ))}
    </ScrollingTable>
  );
}
