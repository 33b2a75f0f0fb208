import type { Match } from '../api/types.js';
import { ScrollingTable } from '../components/DataTable.js';
import { record } from '../lib/format.js';
import { href } from '../lib/route.js';
import type { Scope } from '../lib/scope.js';

/**
 * A team's matches and its results, corrections and cancellations marked; each opponent's link
 * keeps the page's scope.
 */
export function MatchList(props: {
  id: string;
  matches: readonly Match[];
  name: (id: string) => string;
  scope: Scope;
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
      <ScrollingTable
        label="Matches"
        id="matches"
        caption="Matches, in the order played"
        headings={['Date', 'Opponent', 'Site', 'Result', 'Status']}
      >
        {rows.map((m) => {
          const home = m.home_team === id;
          const opponent = home ? m.away_team : m.home_team;
          const [own, other] = home ? [m.home_goals, m.away_goals] : [m.away_goals, m.home_goals];
          const outcome =
            own === null || other === null ? '' : own > other ? 'W' : own < other ? 'L' : 'T';
          return (
            <tr key={m.match_id} data-status={m.status} class={m.status}>
              <td>{m.played_on}</td>
              <td>
                <a href={href('team', opponent, { ...props.scope })}>{props.name(opponent)}</a>
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
      </ScrollingTable>
    </>
  );
}
