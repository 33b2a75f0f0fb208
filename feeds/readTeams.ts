import {
  fieldText,
  hasControlCharacter,
  MAX_NAME_LENGTH,
  unsafeText,
} from '../domain/games/validateGame.js';
import { type FeedProblem, type ReadFeedOptions, readFeed, spanOf } from './readFeed.js';

/** A team of the Division I list. */
export interface ListedTeam {
  readonly team: string;
  readonly conference?: string;
  readonly division?: string;
  readonly region?: string;
}

export interface TeamsFeed {
  readonly teams: ListedTeam[];
  readonly problems: FeedProblem[];
}

/**
 * Reads a team list (CSV with a `team` or `name` column and optional `conference`,
 * `division` and `region` columns, or JSON Lines with the same keys). A name listed twice is reported once as a problem.
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
      // A JSON number is its text, as in the games feed (a division 1); an object or a list
      // is no name.
      const notText = (['team', 'conference', 'division', 'region'] as const).find((name) => {
        const value = name === 'team' ? (item.fields.team ?? item.fields.name) : item.fields[name];
        return value !== undefined && value !== null && fieldText(value) === undefined;
      });
      if (notText) {
        problems.push({
          kind: 'problem',
          line: item.line,
          reason: `${spanOf(item)}${notText} is not text`,
        });
        continue;
      }
      const fields: Record<string, string | undefined> = {};
      for (const name of ['team', 'name', 'conference', 'division', 'region'])
        fields[name] = fieldText(item.fields[name]);
      const raw = fields.team ?? fields.name;
      const team = typeof raw === 'string' ? raw.trim() : '';
      if (team === '') {
        problems.push({
          kind: 'problem',
          line: item.line,
          reason: `${spanOf(item)}team is missing`,
        });
        continue;
      }
      const bad = (['team', 'conference', 'division', 'region'] as const).find((name) => {
        const value = name === 'team' ? team : fields[name];
        return (
          typeof value === 'string' &&
          (value.length > MAX_NAME_LENGTH || hasControlCharacter(value))
        );
      });
      if (bad) {
        problems.push({
          kind: 'problem',
          line: item.line,
          reason: `${spanOf(item)}${bad} is longer than ${MAX_NAME_LENGTH} characters or has control characters`,
        });
        continue;
      }
      // Refused as the games feed refuses it: the directory's names are shown and exported.
      const unsafe = (['team', 'conference', 'division', 'region'] as const).flatMap((name) => {
        const value = name === 'team' ? team : fields[name];
        const why = typeof value === 'string' ? unsafeText(value.trim()) : undefined;
        return why ? [`${name} ${why}`] : [];
      });
      if (unsafe.length > 0) {
        problems.push({ kind: 'problem', line: item.line, reason: `${spanOf(item)}${unsafe[0]}` });
        continue;
      }
      if (seen.has(team)) {
        problems.push({
          kind: 'problem',
          line: item.line,
          reason: `${spanOf(item)}team "${team}" is listed twice`,
        });
        continue;
      }
      seen.add(team);
      const optional = (name: 'conference' | 'division' | 'region') => {
        const value = fields[name];
        return typeof value === 'string' && value.trim() !== '' ? { [name]: value.trim() } : {};
      };
      teams.push({
        team,
        ...optional('conference'),
        ...optional('division'),
        ...optional('region'),
      });
    }
  }
  return { teams, problems };
}
