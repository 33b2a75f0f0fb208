import { type FeedProblem, type ReadFeedOptions, readFeed } from './readFeed.js';

/** A team of the Division I list. */
export interface ListedTeam {
  readonly team: string;
  readonly conference?: string;
}

export interface TeamsFeed {
  readonly teams: ListedTeam[];
  readonly problems: FeedProblem[];
}

/**
 * Reads a team list (CSV with a `team` or `name` column and an optional `conference`, or
 * JSON Lines with the same keys). A name listed twice is reported once as a problem.
 */
export async function readTeams(
  path: string,
  options: Omit<ReadFeedOptions, 'requiredColumns'> = {},
): Promise<TeamsFeed> {
  const teams: ListedTeam[] = [];
  const problems: FeedProblem[] = [];
  const seen = new Set<string>();
  for await (const batch of readFeed(path, { ...options, requiredColumns: ['team|name'] })) {
    for (const item of batch) {
      if (item.kind === 'problem') {
        problems.push(item);
        continue;
      }
      const raw = item.fields.team ?? item.fields.name;
      const team = typeof raw === 'string' ? raw.trim() : '';
      if (team === '') {
        problems.push({ kind: 'problem', line: item.line, reason: 'team is missing' });
        continue;
      }
      if (seen.has(team)) {
        problems.push({
          kind: 'problem',
          line: item.line,
          reason: `team "${team}" is listed twice`,
        });
        continue;
      }
      seen.add(team);
      const conference =
        typeof item.fields.conference === 'string' ? item.fields.conference.trim() : '';
      teams.push(conference ? { team, conference } : { team });
    }
  }
  return { teams, problems };
}
