import { useCallback } from 'preact/hooks';
import { apiUrl } from '../api/client.js';
import type { Rankings, TeamDetail, TeamMatches, TeamWeekly } from '../api/types.js';
import { Pending } from '../components/Pending.js';
import { ratio, record } from '../lib/format.js';
import { href } from '../lib/route.js';
import { type Scope, scopeLabel, scopeOf, useRankings } from '../lib/scope.js';
import { useTeams } from '../lib/teams.js';
import { useAnswer } from '../lib/useAnswer.js';
import { MatchList } from './MatchList.js';
import { WeeklyRatings } from './WeeklyRatings.js';

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
  const rankings = useRankings(scope, version);
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
          </dl>
        )}
      </Pending>

      <section aria-labelledby="rpi-heading">
        <h3 id="rpi-heading">Record and RPI ({scopeLabel(scope)})</h3>
        <Pending answer={rankings} what="the rankings">
          {(data) =>
            entry ? (
              <>
                <dl class="facts components">
                  <div>
                    <dt>Record</dt>
                    <dd data-field="record">{record(entry)}</dd>
                  </div>
                  <div>
                    <dt>Rank</dt>
                    <dd data-field="rank">{entry.rank ?? '–'}</dd>
                  </div>
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
                {countedGames(scope, data.variant) && (
                  <p class="note" data-field="counted">
                    The record and the rates count {countedGames(scope, data.variant)}; the matches
                    below are all of the season's.
                  </p>
                )}
              </>
            ) : (
              <p class="note">This calculation does not rate the team.</p>
            )
          }
        </Pending>
      </section>

      <section aria-labelledby="weekly-heading">
        <h3 id="weekly-heading">
          The season week by week
          {/* `GET /teams/{id}/weekly` rates each week with the unadjusted RPI alone. */}
          {scope.variant ? ', in the unadjusted RPI' : ''}
        </h3>
        <Pending answer={weekly} what="the weekly ratings">
          {(w) => <WeeklyRatings weekly={w} name={name} scope={scope} />}
        </Pending>
      </section>

      <section aria-labelledby="matches-heading">
        <h3 id="matches-heading">Matches</h3>
        <Pending answer={matches} what="the matches">
          {(m) => <MatchList id={id} matches={m.matches} name={name} scope={scope} />}
        </Pending>
      </section>
    </>
  );
}

/**
 * The games a calculation of the scope counts, where they are not all the season's (as the
 * match list's are): "its non-conference games up to 2026-10-01"; undefined where they are.
 */
function countedGames(scope: Scope, variant: Rankings['variant']): string | undefined {
  const games = [
    variant === 'non-conference' ? 'its non-conference games' : 'its games',
    ...(scope.division ? [`against division ${scope.division} teams`] : []),
    ...(scope.as_of ? [`up to ${scope.as_of}`] : []),
  ];
  return games.length === 1 && variant !== 'non-conference' ? undefined : games.join(' ');
}
