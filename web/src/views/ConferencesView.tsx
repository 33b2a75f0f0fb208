import { useCallback, useMemo } from 'preact/hooks';
import type { Rankings, Team } from '../api/types.js';
import { numeric, ScrollingTable } from '../components/DataTable.js';
import { Pending } from '../components/Pending.js';
import { PlotFigure } from '../components/PlotFigure.js';
import { ratio } from '../lib/format.js';
import type * as P from '../lib/plot.js';
import { href } from '../lib/route.js';
import { type Scope, scopeLabel, scopeOf, useRankings } from '../lib/scope.js';
import { useTeams } from '../lib/teams.js';

/** A conference's RPI: its mean and spread over its rated teams. */
export interface ConferenceRating {
  readonly conference: string;
  readonly teams: number;
  readonly mean: number;
  readonly min: number;
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  readonly max: number;
  readonly best: string;
}

/** Conferences compared: average RPI and spread, from the rankings and the team directory. */
export function ConferencesView(props: {
  season: string;
  query: URLSearchParams;
  version: number;
}) {
  const scope = scopeOf(props.season, props.query);
  const rankings = useRankings(scope, props.version);
  const { byId, answer: teams } = useTeams();
  return (
    <>
      <h2 tabIndex={-1}>Conferences, season {props.season}</h2>
      <Pending answer={teams} what="the team directory">
        {() => (
          <Pending answer={rankings} what="the rankings">
            {(data) => <Conferences rankings={data} scope={scope} byId={byId} />}
          </Pending>
        )}
      </Pending>
    </>
  );
}

function Conferences(props: { rankings: Rankings; scope: Scope; byId: ReadonlyMap<string, Team> }) {
  const ratings = useMemo(() => rate(props.rankings, props.byId), [props.rankings, props.byId]);
  const names = useMemo(() => ratings.map((r) => r.conference), [ratings]);
  const plot = useCallback(
    (Plot: typeof P, width: number): P.PlotOptions => ({
      ariaLabel: 'RPI by conference',
      height: ratings.length * 26 + 50,
      marginLeft: Math.min(160, Math.max(80, width / 4)),
      x: { label: 'RPI', grid: true, tickFormat: '.3f' },
      y: { label: null, domain: names },
      marks: [
        Plot.ruleY(ratings, {
          y: 'conference',
          x1: 'min',
          x2: 'max',
          stroke: '#57606a',
          ariaHidden: 'true',
        }),
        Plot.barX(ratings, {
          y: 'conference',
          x1: 'q1',
          x2: 'q3',
          fill: '#b6d3f2',
          insetTop: 4,
          insetBottom: 4,
          ariaHidden: 'true',
        }),
        Plot.tickX(ratings, {
          y: 'conference',
          x: 'median',
          stroke: '#0550ae',
          strokeWidth: 2,
          ariaHidden: 'true',
        }),
        Plot.dot(ratings, {
          y: 'conference',
          x: 'mean',
          fill: '#24292f',
          r: 4,
          ariaLabel: (r: ConferenceRating) =>
            `${r.conference}: average RPI ${ratio(r.mean)}, from ${ratio(r.min)} to ${ratio(r.max)}`,
          title: (r: ConferenceRating) =>
            `${r.conference}: mean ${ratio(r.mean)}, median ${ratio(r.median)}, ${ratio(r.min)}–${ratio(r.max)}`,
        }),
      ],
    }),
    [ratings, names],
  );
  if (ratings.length === 0) return <p class="note">No rated team has a conference.</p>;
  return (
    <>
      <p>
        {scopeLabel(props.scope)}: {ratings.length} conferences, strongest average first.
      </p>
      <PlotFigure
        id="conferences-chart"
        plot={plot}
        caption="Average RPI (dot) per conference, with the range from the lowest to the highest team (line), the middle half (box) and the median (tick)"
      />
      <ScrollingTable
        label="Conferences"
        id="conferences"
        caption="Conferences by average RPI"
        headings={[
          'Conference',
          ...numeric(
            'Teams',
            'Average',
            'Lowest',
            'Lower quartile',
            'Median',
            'Upper quartile',
            'Highest',
          ),
          'Best team',
        ]}
      >
        {ratings.map((r) => (
          <tr key={r.conference}>
            <th scope="row">{r.conference}</th>
            <td class="num">{r.teams}</td>
            <td class="num">{ratio(r.mean)}</td>
            <td class="num">{ratio(r.min)}</td>
            <td class="num">{ratio(r.q1)}</td>
            <td class="num">{ratio(r.median)}</td>
            <td class="num">{ratio(r.q3)}</td>
            <td class="num">{ratio(r.max)}</td>
            <td>
              <a href={href('team', r.best, { ...props.scope })}>
                {props.byId.get(r.best)?.name ?? r.best}
              </a>
            </td>
          </tr>
        ))}
      </ScrollingTable>
    </>
  );
}

/** Groups the rated teams by conference, strongest average first. */
export function rate(rankings: Rankings, byId: ReadonlyMap<string, Team>): ConferenceRating[] {
  const groups = new Map<string, { team: string; rpi: number }[]>();
  for (const entry of rankings.rankings) {
    const conference = byId.get(entry.team)?.conference;
    if (!conference || entry.rpi === null) continue;
    const group = groups.get(conference) ?? [];
    group.push({ team: entry.team, rpi: entry.rpi });
    groups.set(conference, group);
  }
  return [...groups]
    .map(([conference, teams]) => {
      const values = teams.map((t) => t.rpi).sort((a, b) => a - b);
      const best = teams.reduce((a, b) => (b.rpi > a.rpi ? b : a));
      return {
        conference,
        teams: values.length,
        mean: values.reduce((sum, v) => sum + v, 0) / values.length,
        min: values[0] ?? 0,
        q1: quantile(values, 0.25),
        median: quantile(values, 0.5),
        q3: quantile(values, 0.75),
        max: values[values.length - 1] ?? 0,
        best: best.team,
      };
    })
    .sort((a, b) => b.mean - a.mean);
}

/** The p-quantile of sorted values, interpolated between the two nearest. */
function quantile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const low = sorted[Math.floor(at)] ?? 0;
  const high = sorted[Math.ceil(at)] ?? low;
  return low + (high - low) * (at - Math.floor(at));
}
