import { useCallback, useMemo } from 'preact/hooks';
import { apiUrl } from '../api/client.js';
import type {
  Match,
  OpponentEffect,
  Rankings,
  TeamDetail,
  TeamMatches,
  TeamWeekly,
  WeekRating,
} from '../api/types.js';
import { Pending } from '../components/Pending.js';
import { PlotFigure } from '../components/PlotFigure.js';
import { ScrollArea } from '../components/ScrollArea.js';
import { ratio, record } from '../lib/format.js';
import type * as P from '../lib/plot.js';
import { href } from '../lib/route.js';
import { rankingsUrl, scopeOf } from '../lib/scope.js';
import { useTeams } from '../lib/teams.js';
import { useAnswer } from '../lib/useAnswer.js';
import { scopeLabel } from './RankingsView.js';

/** A team: its rating, its season week by week, its opponents and its matches. */
export function TeamView(props: {
  id: string;
  season: string;
  query: URLSearchParams;
  version: number;
}) {
  const { id, season, version } = props;
  const scope = scopeOf(season, props.query);
  const path = `teams/${encodeURIComponent(id)}`;
  const team = useAnswer<TeamDetail>(apiUrl(path, { season }), version);
  const matches = useAnswer<TeamMatches>(apiUrl(`${path}/matches`, { season }), version);
  const weekly = useAnswer<TeamWeekly>(
    apiUrl(`${path}/weekly`, { season, profile: scope.profile, division: scope.division }),
    version,
  );
  const rankings = useAnswer<Rankings>(rankingsUrl(scope), version);
  const { byId } = useTeams();
  const name = useCallback((teamId: string) => byId.get(teamId)?.name ?? teamId, [byId]);
  const entry =
    rankings?.kind === 'ok' ? rankings.data.rankings.find((e) => e.team === id) : undefined;

  return (
    <>
      <h2 tabIndex={-1}>
        {team?.kind === 'ok' ? team.data.name : id}, season {season}
      </h2>
      <p>
        <a href={href('', { ...scope })}>Back to the rankings</a>
      </p>
      <Pending answer={team} what="the team">
        {(t) => (
          <dl class="facts" aria-label="Team">
            <div>
              <dt>Conference</dt>
              <dd>{t.conference ?? '–'}</dd>
            </div>
            <div>
              <dt>Division</dt>
              <dd>{t.division ?? '–'}</dd>
            </div>
            <div>
              <dt>Region</dt>
              <dd>{t.region ?? '–'}</dd>
            </div>
            <div>
              <dt>Record</dt>
              <dd data-field="record">{entry ? record(entry) : '–'}</dd>
            </div>
            <div>
              <dt>Rank</dt>
              <dd data-field="rank">{entry?.rank ?? '–'}</dd>
            </div>
          </dl>
        )}
      </Pending>

      <section aria-labelledby="rpi-heading">
        <h3 id="rpi-heading">RPI components ({scopeLabel(scope)})</h3>
        <Pending answer={rankings} what="the rankings">
          {() =>
            entry ? (
              <dl class="facts components">
                <div>
                  <dt>
                    <abbr title="Winning percentage">WP</abbr>
                  </dt>
                  <dd data-field="wp">{ratio(entry.wp)}</dd>
                </div>
                <div>
                  <dt>
                    <abbr title="Opponents' winning percentage">OWP</abbr>
                  </dt>
                  <dd data-field="owp">{ratio(entry.owp)}</dd>
                </div>
                <div>
                  <dt>
                    <abbr title="Opponents' opponents' winning percentage">OOWP</abbr>
                  </dt>
                  <dd data-field="oowp">{ratio(entry.oowp)}</dd>
                </div>
                <div>
                  <dt>RPI</dt>
                  <dd data-field="rpi">{ratio(entry.rpi)}</dd>
                </div>
              </dl>
            ) : (
              <p class="note">This calculation does not rate the team.</p>
            )
          }
        </Pending>
      </section>

      <section aria-labelledby="weekly-heading">
        <h3 id="weekly-heading">The season week by week</h3>
        <Pending answer={weekly} what="the weekly ratings">
          {(w) => <Weekly weekly={w} name={name} scope={scope} />}
        </Pending>
      </section>

      <section aria-labelledby="matches-heading">
        <h3 id="matches-heading">Matches</h3>
        <Pending answer={matches} what="the matches">
          {(m) => <Matches id={id} matches={m.matches} name={name} season={season} />}
        </Pending>
      </section>
    </>
  );
}

function Weekly(props: {
  weekly: TeamWeekly;
  name: (id: string) => string;
  scope: ReturnType<typeof scopeOf>;
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

function Matches(props: {
  id: string;
  matches: readonly Match[];
  name: (id: string) => string;
  season: string;
}) {
  const { id } = props;
  const rows = [...props.matches].sort((a, b) => a.played_on.localeCompare(b.played_on));
  const counted = rows.filter(
    (m) => m.status !== 'cancelled' && m.home_goals !== null && m.away_goals !== null,
  );
  const tally = { wins: 0, losses: 0, ties: 0 };
  for (const m of counted) {
    const [own, other] =
      m.home_team === id ? [m.home_goals, m.away_goals] : [m.away_goals, m.home_goals];
    if (own === null || other === null) continue;
    if (own > other) tally.wins += 1;
    else if (own < other) tally.losses += 1;
    else tally.ties += 1;
  }
  return (
    <>
      <p>
        Results: <strong data-field="match-record">{record(tally)}</strong> in {counted.length}{' '}
        games played
        {rows.length > counted.length
          ? `, ${rows.length - counted.length} not played or cancelled`
          : ''}
        .
      </p>
      <ScrollArea label="Matches">
        <table id="matches">
          <caption>Matches, in the order played</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Opponent</th>
              <th scope="col">Site</th>
              <th scope="col">Result</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => {
              const home = m.home_team === id;
              const opponent = home ? m.away_team : m.home_team;
              const [own, other] = home
                ? [m.home_goals, m.away_goals]
                : [m.away_goals, m.home_goals];
              const outcome =
                own === null || other === null ? '' : own > other ? 'W' : own < other ? 'L' : 'T';
              return (
                <tr key={m.match_id} data-status={m.status} class={m.status}>
                  <td>{m.played_on}</td>
                  <td>
                    <a href={href('team', opponent, { season: props.season })}>
                      {props.name(opponent)}
                    </a>
                  </td>
                  <td>{m.neutral ? 'neutral' : home ? 'home' : 'away'}</td>
                  <td>
                    {outcome ? (
                      <>
                        <span class={`outcome ${outcome}`}>{outcome}</span> {own}–{other}
                        {m.decided_by ? ` (${m.decided_by})` : ''}
                      </>
                    ) : (
                      '–'
                    )}
                  </td>
                  <td>
                    {m.status === 'cancelled' ? (
                      <span class="badge bad">
                        cancelled{m.cancellation_reason ? `: ${m.cancellation_reason}` : ''}
                      </span>
                    ) : m.status === 'corrected' || m.corrections > 0 ? (
                      <span class="badge warn">
                        corrected{m.corrections > 1 ? ` ${m.corrections} times` : ''}
                      </span>
                    ) : (
                      m.status
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollArea>
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
