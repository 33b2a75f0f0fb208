import { useMemo } from 'preact/hooks';
import { apiUrl } from '../api/client.js';
import type { Team, Teams } from '../api/types.js';
import { type Loaded, useAnswer } from './useAnswer.js';

/** The team directory by team id (empty until it loads, or where it cannot). */
export function useTeams(): {
  readonly byId: ReadonlyMap<string, Team>;
  readonly answer: Loaded<Teams>;
} {
  const answer = useAnswer<Teams>(apiUrl('teams'));
  const byId = useMemo(
    () => new Map(answer?.kind === 'ok' ? answer.data.teams.map((t) => [t.team_id, t]) : []),
    [answer],
  );
  return { byId, answer };
}
