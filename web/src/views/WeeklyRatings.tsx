import { useCallback, useMemo } from 'preact/hooks';
import type { OpponentEffect, TeamWeekly, WeekRating } from '../api/types.js';
import { DataTable, numeric, ScrollingTable } from '../components/DataTable.js';
import { PlotFigure } from '../components/PlotFigure.js';
import { timeAxis } from '../lib/axes.js';
import { ratio, record } from '../lib/format.js';
import type * as P from '../lib/plot.js';
import { href } from '../lib/route.js';
import type { Scope } from '../lib/scope.js';

/** A team's season week by week (charts and a table) and its opponents' effect. */
export function WeeklyRatings(props: {
  weekly: TeamWeekly;
  name: (id: string) => string;
  scope: Scope;
}) {
  const { weeks, opponents } = props.weekly;
  const points = useMemo(
    () => weeks.map((w) => ({ ...w, day: new Date(`${w.week_end}T00:00:00Z`) })),
    [weeks],
  );
  const rpiPlot = useCallback(
    (Plot: typeof P, width: number) => weekChart(Plot, width, points, RPI_CHART),
    [points],
  );
  const rankPlot = useCallback(
    (Plot: typeof P, width: number) => weekChart(Plot, width, points, RANK_CHART),
    [points],
  );
  const sorted = useMemo(() => [...opponents].sort((a, b) => b.effect - a.effect), [opponents]);
  const effectPlot = useCallback(
    (Plot: typeof P): P.PlotOptions => ({
      ariaLabel: 'Effect of each opponent on the strength of schedule',
      height: Math.max(120, sorted.length * 22 + 40),
      marginLeft: 150,
      x: { label: 'Effect on strength of schedule', grid: true },
      y: { label: null, domain: sorted.map((o) => props.name(o.opponent)) },
      color: { domain: ['helped', 'hurt'], range: ['#1a7f37', '#cf222e'] },
      marks: [
        Plot.barX(sorted, {
          y: (o: OpponentEffect) => props.name(o.opponent),
          x: 'effect',
          fill: (o: OpponentEffect) => (o.effect >= 0 ? 'helped' : 'hurt'),
          ariaLabel: (o: OpponentEffect) =>
            `${props.name(o.opponent)}: ${o.effect >= 0 ? 'helped' : 'hurt'} by ${o.effect.toFixed(4)}`,
        }),
        Plot.ruleX([0]),
      ],
    }),
    [sorted, props.name],
  );
  return (
    <>
      {weeks.length === 0 ? (
        <p class="note">No week of this season has a rating yet.</p>
      ) : (
        <div class="charts">
          <PlotFigure
            id="rpi-chart"
            plot={rpiPlot}
            caption="RPI as of each week's end (the last point: the season's last game day)"
          />
          <PlotFigure id="rank-chart" plot={rankPlot} caption="Rank as of each week's end" />
        </div>
      )}
      <div class="visually-hidden">
        <DataTable
          id="weekly-table"
          caption="RPI and rank as of each week's end"
          headings={['Week ending', 'Games', 'Rank', 'RPI', 'WP', 'OWP', 'OOWP']}
        >
          {weeks.map((w) => (
            <tr key={w.week_end}>
              <th scope="row">{w.week_end}</th>
              <td>{w.games}</td>
              <td>{w.rank === null ? '–' : `${w.rank} of ${w.teams_rated}`}</td>
              <td>{ratio(w.rpi)}</td>
              <td>{ratio(w.wp)}</td>
              <td>{ratio(w.owp)}</td>
              <td>{ratio(w.oowp)}</td>
            </tr>
          ))}
        </DataTable>
      </div>

      <h3>Opponents that helped or hurt</h3>
      {sorted.length === 0 ? (
        <p class="note">No opponent yet.</p>
      ) : (
        <>
          <PlotFigure
            id="opponents-chart"
            plot={effectPlot}
            caption="Each opponent's effect on the strength of schedule: right of zero it helped, left it hurt"
          />
          <ScrollingTable
            label="Opponents"
            id="opponents"
            caption="Opponents, the most helpful first"
            headings={['Opponent', ...numeric('Games', 'W-L-T against', "Opponent's WP", 'Effect')]}
          >
            {sorted.map((o) => (
              <tr key={o.opponent}>
                <th scope="row">
                  <a href={href('team', o.opponent, { ...props.scope })}>
                    {props.name(o.opponent)}
                  </a>
                </th>
                <td class="num">{o.games}</td>
                <td class="num">{record(o)}</td>
                <td class="num">{ratio(o.opponent_wp)}</td>
                <td class={`num ${o.effect >= 0 ? 'good' : 'bad'}`}>
                  {o.effect >= 0 ? 'helped ' : 'hurt '}
                  {o.effect.toFixed(4)}
                </td>
              </tr>
            ))}
          </ScrollingTable>
        </>
      )}
    </>
  );
}

/** A week's rating, placed at the day its week ends. */
type WeekPoint = WeekRating & { day: Date };

/** What one of the week-by-week charts shows of each week, and how. */
interface WeekChart {
  readonly key: 'rpi' | 'rank';
  readonly ariaLabel: string;
  readonly height: number;
  readonly y: P.ScaleOptions;
  readonly colour: string;
  /** The name of a rated week's point, and its tooltip. */
  readonly label: (w: WeekRating) => string;
  readonly title: (w: WeekRating) => string;
}

/** The RPI as of each week's end. */
const RPI_CHART: WeekChart = {
  key: 'rpi',
  ariaLabel: 'RPI by week',
  height: 240,
  y: { label: 'RPI', grid: true, tickFormat: '.3f' },
  colour: '#0550ae',
  label: (w) => `Week ending ${w.week_end}: RPI ${ratio(w.rpi)}`,
  title: (w) => `${w.week_end}: RPI ${ratio(w.rpi)}, rank ${w.rank ?? '–'}`,
};

/** The rank as of each week's end, the first at the top. */
const RANK_CHART: WeekChart = {
  key: 'rank',
  ariaLabel: 'Rank by week',
  height: 200,
  y: { label: 'Rank', reverse: true, grid: true },
  colour: '#8250df',
  label: (w) => `Week ending ${w.week_end}: rank ${w.rank ?? 'none'} of ${w.teams_rated}`,
  title: (w) => `${w.week_end}: rank ${w.rank ?? '–'} of ${w.teams_rated}`,
};

/** One figure of each week as a line, with a point per rated week and a hollow one per unrated. */
function weekChart(
  Plot: typeof P,
  width: number,
  points: readonly WeekPoint[],
  chart: WeekChart,
): P.PlotOptions {
  return {
    ariaLabel: chart.ariaLabel,
    height: chart.height,
    marginLeft: 50,
    x: timeAxis('Week ending', width, 110),
    y: chart.y,
    marks: [
      Plot.lineY(points, { x: 'day', y: chart.key, stroke: chart.colour, ariaHidden: 'true' }),
      unratedWeeks(Plot, points, chart.key),
      Plot.dot(points, {
        x: 'day',
        y: chart.key,
        fill: chart.colour,
        r: 4,
        ariaLabel: chart.label,
        title: chart.title,
      }),
    ],
  };
}

/**
 * A hollow point on the axis for each week without a rating (the team had not played yet), so
 * that the chart has a point for every week.
 */
function unratedWeeks(Plot: typeof P, points: readonly WeekPoint[], key: 'rpi' | 'rank') {
  return Plot.dot(
    points.filter((w) => w[key] === null),
    {
      x: 'day',
      frameAnchor: 'bottom',
      r: 4,
      stroke: '#57606a',
      fill: 'white',
      ariaLabel: (w: WeekRating) => `Week ending ${w.week_end}: no rating yet`,
      title: (w: WeekRating) => `${w.week_end}: no rating yet`,
    },
  );
}
