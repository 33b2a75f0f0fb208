import { useState } from 'preact/hooks';
import type { RankingEntry, Rankings, Seasons, Team } from '../api/types.js';
import { Calculation } from '../components/Calculation.js';
import { Pending } from '../components/Pending.js';
import { type Column, SortableTable } from '../components/SortableTable.js';
import { ratio, record } from '../lib/format.js';
import { href } from '../lib/route.js';
import { type Scope, scopeLabel, scopeOf, useRankings } from '../lib/scope.js';
import { useTeams } from '../lib/teams.js';
import type { Loaded } from '../lib/useAnswer.js';
import { ScopePicker } from './ScopePicker.js';

/** The season's rankings (or a scope's): a sortable, searchable table. */
export function RankingsView(props: {
  season: string;
  seasons: Loaded<Seasons>;
  query: URLSearchParams;
  version: number;
}) {
  const scope = scopeOf(props.season, props.query);
  const rankings = useRankings(scope, props.version);
  const { byId, answer: teams } = useTeams();
  const [search, setSearch] = useState('');
  return (
    <>
      <h2 tabIndex={-1}>Rankings, season {props.season}</h2>
      <ScopePicker
        page=""
        scope={scope}
        seasons={props.seasons}
        seasonProfile={
          // The calculation shown is of the season's profile when the scope names none.
          scope.profile === undefined && rankings?.kind === 'ok' ? rankings.data.profile : undefined
        }
      />
      <Pending answer={rankings} what="the rankings">
        {(data) => {
          const rows = data.rankings.filter((entry) =>
            matches(entry, byId.get(entry.team), search),
          );
          return (
            <>
              <Calculation rankings={data} />
              <div class="field search">
                <label for="team-search">Search teams</label>
                <input
                  id="team-search"
                  type="search"
                  value={search}
                  placeholder="Name or conference"
                  onInput={(e) => setSearch(e.currentTarget.value)}
                  aria-describedby="team-search-count"
                />
                <span id="team-search-count" class="hint">
                  {rows.length === data.rankings.length
                    ? `${rows.length} teams`
                    : `${rows.length} of ${data.rankings.length} teams`}
                </span>
              </div>
              {teams === undefined && (
                // Each team's conference comes from the team directory, which loads apart.
                <p class="note" aria-busy="true">
                  Loading the team directory: conferences to follow…
                </p>
              )}
              <SortableTable
                id="rankings"
                caption={`RPI rankings, ${scopeLabel(scope)}`}
                columns={columns(byId, scope, data.variant)}
                rows={rows}
                rowKey={(entry) => entry.team}
                initial={{ key: 'rank', descending: false }}
              />
            </>
          );
        }}
      </Pending>
    </>
  );
}

function matches(entry: RankingEntry, team: Team | undefined, search: string) {
  const needle = search.trim().toLowerCase();
  if (needle === '') return true;
  return [entry.team, team?.name, team?.conference].some((text) =>
    text?.toLowerCase().includes(needle),
  );
}

/**
 * The table's columns; under a variant, each team's unadjusted rank and RPI beside (and the
 * adjustment, for the adjusted RPI), so one sees what the variant did.
 */
function columns(
  byId: ReadonlyMap<string, Team>,
  scope: Scope,
  variant: Rankings['variant'],
): Column<RankingEntry>[] {
  const rate = (
    key: 'wp' | 'owp' | 'oowp' | 'rpi' | 'unadjusted_rpi',
    label: string,
  ): Column<RankingEntry> => ({
    key,
    label,
    value: (e) => e[key],
    render: (e) => ratio(e[key]),
    numeric: true,
    firstDescending: true,
  });
  return [
    { key: 'rank', label: 'Rank', value: (e) => e.rank, numeric: true },
    {
      key: 'team',
      label: 'Team',
      value: (e) => byId.get(e.team)?.name ?? e.team,
      render: (e) => (
        <a href={href('team', e.team, { ...scope })}>{byId.get(e.team)?.name ?? e.team}</a>
      ),
    },
    {
      key: 'conference',
      label: 'Conference',
      value: (e) => byId.get(e.team)?.conference ?? null,
      render: (e) => byId.get(e.team)?.conference ?? '–',
    },
    {
      key: 'record',
      label: 'W-L-T',
      // Sorted by winning percentage as the RPI counts it: ties half a win.
      value: (e) => (e.games === 0 ? null : (e.wins + e.ties / 2) / e.games),
      render: record,
      numeric: true,
      firstDescending: true,
    },
    rate('wp', 'WP'),
    rate('owp', 'OWP'),
    rate('oowp', 'OOWP'),
    rate(
      'rpi',
      variant === 'adjusted'
        ? 'Adjusted RPI'
        : variant === 'non-conference'
          ? 'Non-conf. RPI'
          : 'RPI',
    ),
    ...(variant === 'unadjusted'
      ? []
      : [
          rate('unadjusted_rpi', 'Unadjusted RPI'),
          {
            key: 'unadjusted_rank',
            label: 'Unadjusted rank',
            value: (e: RankingEntry) => e.unadjusted_rank,
            numeric: true,
          },
        ]),
    ...(variant === 'adjusted'
      ? [
          {
            key: 'adjustment',
            label: 'Adjustment',
            value: (e: RankingEntry) => e.adjustment,
            render: (e: RankingEntry) =>
              e.adjustment === null
                ? '–'
                : `${e.adjustment >= 0 ? '+' : ''}${e.adjustment.toFixed(4)}`,
            numeric: true,
            firstDescending: true,
          },
        ]
      : []),
  ];
}
