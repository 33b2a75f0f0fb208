import type { RpiProfile } from './profileTypes.js';
import {
  BANGOR_2013,
  CHN_2013,
  ELYNAH_2015,
  ELYNAH_2018,
  HOCKEY_MEMO_2013,
  MEMO_DIVISOR_QUOTE,
  RIVALS_PAIRWISE,
  USCHO_RPI_PAGE,
} from './ruleSources.js';

/** 5.00 points for a win over #1, 0.25 less per place, 0.25 for #20. */
const QUALITY_WIN_POINTS = Array.from({ length: 20 }, (_, i) => 5 - 0.25 * i);

/**
 * NCAA Division I men's ice hockey from 2013-14: the NCAA memo's rules, with the readings the
 * published 2013-14, 2014-15, 2016-17 and 2017-18 figures support (README, "The RPI").
 */
export const NCAA_HOCKEY_2013: RpiProfile = {
  name: 'ncaa-hockey-2013',
  description:
    "NCAA men's ice hockey since 2013-14: 0.25/0.21/0.54, WP weighted by site (road win 1.2, home win 0.8), OWP/OOWP averaged with those weights, bad wins removed, quality-win bonus over the top 20",
  weights: [0.25, 0.21, 0.54],
  tieValue: 1 / 2,
  sosTieValue: 1 / 2,
  locationWeights: { homeWin: 0.8, roadWin: 1.2 },
  penaltiesAreTies: true,
  sosAveraging: 'site-weighted',
  badWins: { passes: 'once' },
  qualityWinBonus: {
    points: QUALITY_WIN_POINTS,
    scale: 0.01,
    tieShare: 1 / 2,
    siteWeighted: true,
  },
  sources: {
    weights: [HOCKEY_MEMO_2013, USCHO_RPI_PAGE],
    tieValue: [HOCKEY_MEMO_2013],
    locationWeights: [HOCKEY_MEMO_2013, CHN_2013, USCHO_RPI_PAGE],
    sosAveraging: [ELYNAH_2018],
    badWins: [HOCKEY_MEMO_2013, USCHO_RPI_PAGE],
    'qualityWinBonus.points': [HOCKEY_MEMO_2013],
    'qualityWinBonus.scale': [RIVALS_PAIRWISE, ELYNAH_2015],
    'qualityWinBonus.tieShare': [ELYNAH_2015, ELYNAH_2018],
    'qualityWinBonus.siteWeighted': [BANGOR_2013, ELYNAH_2015],
    'qualityWinBonus.divisor': [MEMO_DIVISOR_QUOTE, ELYNAH_2015],
  },
};
