import { useCallback, useMemo } from 'preact/hooks';
import type { OpponentEffect, TeamWeekly, WeekRating } from '../api/types.js';
import { PlotFigure } from '../components/PlotFigure.js';
import { ScrollArea } from '../components/ScrollArea.js';
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
    (Plot: typeof P, width: number): P.PlotOptions => ({
      ariaLabel: 'RPI by week',
      height: 240,
      marginLeft: 50,
      x: { type: 'utc', label: 'Week ending', ticks: Math.max(2, Math.floor(width / 110)) },
      y: { label: 'RPI', grid: true, tickFormat: '.3f' },
      marks: [
        Plot.lineY(points, { x: 'day', y: 'rpi', stroke: '#0550ae', ariaHidden: 'true' }),
        unratedWeeks(Plot, points, 'rpi'),
        Plot.dot(points, {
          x: 'day',
          y: 'rpi',
          fill: '#0550ae',
          r: 4,
          ariaLabel: (w: WeekRating) => `Week ending ${w.week_end}: RPI ${ratio(w.rpi)}`,
          title: (w: WeekRating) => `${w.week_end}: RPI ${ratio(w.rpi)}, rank ${w.rank ?? '–'}`,
        }),
      ],
    }),
    [points],
  );
  const rankPlot = useCallback(
    (Plot: typeof P, width: number): P.PlotOptions => ({
      ariaLabel: 'Rank by week',
      height: 200,
      marginLeft: 50,
      x: { type: 'utc', label: 'Week ending', ticks: Math.max(2, Math.floor(width / 110)) },
      y: { label: 'Rank', reverse: true, grid: true },
      marks: [
        Plot.lineY(points, { x: 'day', y: 'rank', stroke: '#8250df', ariaHidden: 'true' }),
        unratedWeeks(Plot, points, 'rank'),
        Plot.dot(points, {
          x: 'day',
          y: 'rank',
          fill: '#8250df',
          r: 4,
          ariaLabel: (w: WeekRating) =>
            `Week ending ${w.week_end}: rank ${w.rank ?? 'none'} of ${w.teams_rated}`,
          title: (w: WeekRating) => `${w.week_end}: rank ${w.rank ?? '–'} of ${w.teams_rated}`,
        }),
      ],
    }),
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
        <table id="weekly-table">
          <caption>RPI and rank as of each week's end</caption>
          <thead>
            <tr>
              <th scope="col">Week ending</th>
              <th scope="col">Games</th>
              <th scope="col">Rank</th>
              <th scope="col">RPI</th>
              <th scope="col">WP</th>
              <th scope="col">OWP</th>
              <th scope="col">OOWP</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
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
          <ScrollArea label="Opponents">
            <table id="opponents">
              <caption>Opponents, the most helpful first</caption>
              <thead>
                <tr>
                  <th scope="col">Opponent</th>
                  <th scope="col" class="num">
                    Games
                  </th>
                  <th scope="col" class="num">
                    W-L-T against
                  </th>
                  <th scope="col" class="num">
                    Opponent's WP
                  </th>
                  <th scope="col" class="num">
                    Effect
                  </th>
                </tr>
              </thead>
              <tbody>
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
              </tbody>
            </table>
          </ScrollArea>
        </>
      )}
    </>
  );
}

/**
 * A hollow point on the axis for each week without a rating (the team had not played yet), so
 * that the chart has a point for every week.
 */
function unratedWeeks(
  Plot: typeof P,
  points: readonly (WeekRating & { day: Date })[],
  key: 'rpi' | 'rank',
) {
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
