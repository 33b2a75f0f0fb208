import type { Projection } from '../projections/Projection.js';
import { matchesProjection } from '../projections/readModels/matches.js';
import { pipelineStatsProjection } from '../projections/readModels/pipelineStats.js';
import { rankingsProjection } from '../projections/readModels/rankings.js';
import { standingsProjection } from '../projections/readModels/standings.js';
import { teamsProjection } from '../projections/readModels/teams.js';
import { sagasProjection } from '../sagas/sagasReadModel.js';

/** Every read model of matchstream. */
export const READ_MODELS: readonly Projection[] = [
  teamsProjection,
  matchesProjection,
  standingsProjection,
  rankingsProjection,
  sagasProjection,
  pipelineStatsProjection,
];
