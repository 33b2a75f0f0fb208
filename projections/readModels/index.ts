import type { Projection } from '../Projection.js';
import { matchesProjection } from './matches.js';
import { pipelineStatsProjection } from './pipelineStats.js';
import { rankingsProjection } from './rankings.js';
import { sagasProjection } from './sagas.js';
import { standingsProjection } from './standings.js';
import { teamsProjection } from './teams.js';

/** Every read model of matchstream. */
export const READ_MODELS: readonly Projection[] = [
  teamsProjection,
  matchesProjection,
  standingsProjection,
  rankingsProjection,
  sagasProjection,
  pipelineStatsProjection,
];

/** The table of a read model version, e.g. `matchstream-rm-standings-v1`. */
export function readModelTable(projection: Pick<Projection, 'name' | 'version'>): string {
  return `matchstream-rm-${projection.name}-v${projection.version}`;
}
