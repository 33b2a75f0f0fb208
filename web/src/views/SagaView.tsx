import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { apiUrl } from '../api/client.js';
import type { Saga, SagaTimeline, TimelineEntry } from '../api/types.js';
import { numeric, ScrollingTable } from '../components/DataTable.js';
import { Pending } from '../components/Pending.js';
import { PlotFigure } from '../components/PlotFigure.js';
import { timeAxis } from '../lib/axes.js';
import { duration, instant } from '../lib/format.js';
import type * as P from '../lib/plot.js';
import { href } from '../lib/route.js';
import { useAnswer } from '../lib/useAnswer.js';
import { useBackoffTick } from '../lib/useTick.js';
import { SagaStatus, unfinished } from './SagasView.js';

const OUTCOMES = ['completed', 'failed', 'timed_out', 'held', 'running'] as const;
const OUTCOME_COLOURS = ['#1a7f37', '#cf222e', '#8250df', '#9a6700', '#0969da'];

/** How often a saga's page asks for the saga again while it runs or compensates. */
export const SAGA_POLL_MS = 1_000;

/** How long at most between two asks while the saga does not move (stuck). */
export const SAGA_POLL_MAX_MS = 60_000;

/**
 * A saga: what it was asked, its steps, and its timeline of steps and compensations; followed
 * while it runs or compensates (asked for again every second, less and less often up to a
 * minute apart while it does not move; its timeline again whenever it moved), until it ends.
 */
export function SagaView(props: { id: string; season: string | undefined }) {
  const path = `sagas/${encodeURIComponent(props.id)}`;
  const [running, setRunning] = useState(false);
  const [shown, setShown] = useState<number>();
  const tick = useBackoffTick(SAGA_POLL_MS, SAGA_POLL_MAX_MS, running, String(shown));
  const saga = useAnswer<Saga>(apiUrl(path), tick);
  const moved = saga?.kind === 'ok' ? saga.data.version : undefined;
  // While its version stays the same, the saga is asked for less often.
  useEffect(() => setShown(moved), [moved]);
  const timeline = useAnswer<SagaTimeline>(
    saga === undefined ? undefined : apiUrl(`${path}/timeline`),
    moved,
  );
  const now = saga?.kind === 'ok' && unfinished(saga.data.status);
  useEffect(() => setRunning(now), [now]);
  return (
    <>
      <h2 tabIndex={-1}>Saga {props.id.slice(0, 8)}</h2>
      <p>
        <a href={href('sagas', { season: props.season })}>All sagas</a>
      </p>
      <Pending answer={saga} what="the saga">
        {(s) => <SagaSummary saga={s} />}
      </Pending>
      <section aria-labelledby="timeline-heading">
        <h3 id="timeline-heading">Timeline</h3>
        <Pending answer={timeline} what="the saga's timeline">
          {(t) => <Timeline timeline={t} />}
        </Pending>
      </section>
    </>
  );
}

function SagaSummary(props: { saga: Saga }) {
  const s = props.saga;
  return (
    <>
      <dl class="facts" aria-label="Saga">
        <div>
          <dt>Status</dt>
          <dd data-field="status">
            <SagaStatus status={s.status} />
          </dd>
        </div>
        <div>
          <dt>Season</dt>
          <dd>{s.data.season}</dd>
        </div>
        <div>
          <dt>As of</dt>
          <dd>{s.data.as_of ?? 'whole season'}</dd>
        </div>
        <div>
          <dt>Profile</dt>
          <dd>{s.data.profile}</dd>
        </div>
        <div>
          <dt>Division</dt>
          <dd data-field="division">{s.data.division ?? 'all divisions'}</dd>
        </div>
        <div>
          <dt>RPI</dt>
          <dd data-field="variant">{s.data.variant ?? 'unadjusted'}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{instant(s.started_at)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{instant(s.finished_at)}</dd>
        </div>
      </dl>
      {s.failed_step && (
        <p class="error-text" data-field="failed_step">
          Step {s.failed_step} failed{s.error ? `: ${s.error}` : ''}.
        </p>
      )}
      <ScrollingTable
        label="Steps"
        id="steps"
        caption="Steps, each with its compensation"
        headings={['Step', 'Status', ...numeric('Attempts'), 'Compensation', 'Error']}
      >
        {s.steps.map((step) => (
          <tr key={step.step_name} data-status={step.status}>
            <th scope="row">{step.step_name}</th>
            <td>{step.status}</td>
            <td class="num">{step.attempts}</td>
            <td>
              {step.compensation.status === 'not_run'
                ? '–'
                : `${step.compensation_function ?? 'compensation'}: ${step.compensation.status}`}
            </td>
            <td>{step.error ?? step.compensation.error ?? ''}</td>
          </tr>
        ))}
      </ScrollingTable>
    </>
  );
}

/** The row of an entry: the step, or its compensation. */
const lane = (e: TimelineEntry) => (e.kind === 'compensation' ? `↩ ${e.step_name}` : e.step_name);

function Timeline(props: { timeline: SagaTimeline }) {
  const { timeline } = props;
  const bars = useMemo(() => {
    const end = Date.parse(timeline.finished_at ?? '') || Date.now();
    return timeline.entries.map((e) => {
      const start = Date.parse(e.started_at);
      // A bar as thin as an instant is still drawn: a step can take under a millisecond.
      const stop = Math.max(Date.parse(e.ended_at ?? '') || end, start + 1);
      return {
        ...e,
        lane: lane(e),
        start: new Date(start),
        stop: new Date(stop),
        ms: stop - start,
      };
    });
  }, [timeline]);
  const lanes = useMemo(() => [...new Set(bars.map((b) => b.lane))], [bars]);
  const plot = useCallback(
    (Plot: typeof P, width: number): P.PlotOptions => ({
      ariaLabel: 'Saga timeline',
      height: lanes.length * 32 + 60,
      marginLeft: Math.min(210, Math.max(120, width / 3)),
      x: timeAxis('Time', width, 140),
      y: { label: null, domain: lanes },
      color: { domain: [...OUTCOMES], range: OUTCOME_COLOURS, legend: true },
      marks: [
        Plot.barX(bars, {
          y: 'lane',
          x1: 'start',
          x2: 'stop',
          fill: 'outcome',
          insetTop: 6,
          insetBottom: 6,
          ariaLabel: (b: (typeof bars)[number]) =>
            `${b.kind} ${b.step_name}, attempt ${b.attempt}: ${b.outcome} after ${duration(b.ms)}${b.error ? ` (${b.error})` : ''}`,
          title: (b: (typeof bars)[number]) =>
            `${b.kind} ${b.step_name} attempt ${b.attempt}: ${b.outcome}${b.error ? `\n${b.error}` : ''}`,
        }),
        // Errors marked where the attempt ended.
        Plot.dot(
          bars.filter(
            (b) => b.error !== null || b.outcome === 'failed' || b.outcome === 'timed_out',
          ),
          {
            y: 'lane',
            x: 'stop',
            symbol: 'times',
            stroke: '#cf222e',
            strokeWidth: 2.5,
            r: 6,
            ariaHidden: 'true',
          },
        ),
        // Attempts after the first, numbered on their bars.
        Plot.text(
          bars.filter((b) => b.attempt > 1),
          {
            y: 'lane',
            x: 'start',
            text: (b: (typeof bars)[number]) => `#${b.attempt}`,
            dy: -12,
            textAnchor: 'start',
            fill: 'currentColor',
            ariaHidden: 'true',
          },
        ),
      ],
    }),
    [bars, lanes],
  );
  if (bars.length === 0) return <p class="note">The saga has taken no step yet.</p>;
  return (
    <>
      <PlotFigure
        id="timeline-chart"
        plot={plot}
        caption="Each step (and, marked ↩, each compensation) as a bar over time, one per attempt; a cross marks an error"
      />
      <ScrollingTable
        label="Timeline entries"
        id="timeline"
        caption="Timeline: every attempt of every step and compensation"
        headings={[
          'Step',
          'Kind',
          ...numeric('Attempt'),
          'Started',
          ...numeric('Took'),
          'Outcome',
          'Error',
        ]}
      >
        {bars.map((b) => (
          <tr
            key={`${b.kind}/${b.step_name}/${b.attempt}`}
            data-kind={b.kind}
            data-outcome={b.outcome}
          >
            <th scope="row">{b.step_name}</th>
            <td>{b.kind}</td>
            <td class="num">{b.attempt}</td>
            <td>{instant(b.started_at)}</td>
            <td class="num">{b.ended_at ? duration(b.ms) : 'running'}</td>
            <td>
              <span
                class={`badge ${b.outcome === 'completed' ? 'good' : b.outcome === 'failed' || b.outcome === 'timed_out' ? 'bad' : 'warn'}`}
              >
                {b.outcome}
              </span>
            </td>
            <td>
              {b.error ?? ''}
              {b.will_retry ? ` (retried${b.retry_at ? ` at ${instant(b.retry_at)}` : ''})` : ''}
            </td>
          </tr>
        ))}
      </ScrollingTable>
    </>
  );
}
