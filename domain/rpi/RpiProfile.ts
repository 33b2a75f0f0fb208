import { DomainError } from '../DomainError.js';
import { NCAA_HOCKEY_2013 } from './ncaaHockey2013.js';
import type { LocationWeights, RpiProfile } from './profileTypes.js';
import {
  SOCCER_2024_CHANGES,
  SOCCER_LOCATION,
  SOCCER_NCRPI,
  SOCCER_RPI_FORMULA,
} from './ruleSources.js';
import { SOCCER_2023_ADJUSTMENTS, SOCCER_2024_ADJUSTMENTS } from './soccerAdjustments.js';

export type {
  AdjustmentTable,
  AdjustmentTier,
  BadWinRule,
  LocationWeights,
  QualityWinBonus,
  RpiProfile,
  RuleSource,
  SiteAmounts,
  SosAveraging,
  TableValue,
} from './profileTypes.js';

const NO_WEIGHTING: LocationWeights = { homeWin: 1, roadWin: 1 };

const SOCCER_2024: RpiProfile = {
  name: 'ncaa-soccer-2024',
  description:
    'NCAA Division I soccer since 2024: 0.25/0.50/0.25, a tie is 1/3 of a win in WP and 1/2 in OWP/OOWP, penalty-kick results are ties',
  weights: [0.25, 0.5, 0.25],
  tieValue: 1 / 3,
  sosTieValue: 1 / 2,
  locationWeights: NO_WEIGHTING,
  penaltiesAreTies: true,
  adjustments: SOCCER_2024_ADJUSTMENTS,
  sources: {
    tieValue: [SOCCER_RPI_FORMULA, SOCCER_2024_CHANGES],
    adjustments: [SOCCER_2024_CHANGES, SOCCER_LOCATION],
    'variant.non-conference': [SOCCER_NCRPI],
  },
};

const BUILT_IN: readonly RpiProfile[] = [
  SOCCER_2024,
  {
    ...SOCCER_2024,
    name: 'ncaa-soccer-2023',
    description:
      'NCAA Division I soccer before 2024: 0.25/0.50/0.25, a tie is 1/2 of a win everywhere, penalty-kick results are ties',
    tieValue: 1 / 2,
    adjustments: SOCCER_2023_ADJUSTMENTS,
    sources: {
      tieValue: [SOCCER_2024_CHANGES],
      adjustments: [SOCCER_2024_CHANGES, SOCCER_LOCATION],
      'variant.non-conference': [SOCCER_NCRPI],
    },
  },
  {
    name: 'ncaa-basketball',
    description:
      'NCAA basketball: 0.25/0.50/0.25, WP weighted by site (home win 0.6, road win 1.4), OWP/OOWP unweighted',
    weights: [0.25, 0.5, 0.25],
    tieValue: 1 / 2,
    sosTieValue: 1 / 2,
    locationWeights: { homeWin: 0.6, roadWin: 1.4 },
    penaltiesAreTies: false,
  },
  {
    name: 'ncaa-hockey',
    description:
      'NCAA hockey before 2013-14: 0.25/0.21/0.54, ties (shootouts included) 1/2, no site weighting',
    weights: [0.25, 0.21, 0.54],
    tieValue: 1 / 2,
    sosTieValue: 1 / 2,
    locationWeights: NO_WEIGHTING,
    penaltiesAreTies: true,
  },
];

/** Every built-in profile, by name: what `matchstream rpi`, the saga, the API and the deployment take. */
export const PROFILES: ReadonlyMap<string, RpiProfile> = new Map(
  [...BUILT_IN, NCAA_HOCKEY_2013].map((p) => [p.name, p]),
);

export const DEFAULT_PROFILE_NAME = SOCCER_2024.name;

/** Parameters that override a profile's own. */
export interface ProfileOverrides {
  readonly weights?: readonly number[];
  readonly tieValue?: number;
  readonly sosTieValue?: number;
  readonly locationWeights?: readonly number[];
}

/**
 * A built-in profile with the given overrides applied and every parameter checked.
 * The result's name says when it was overridden, e.g. `ncaa-soccer-2024+custom`.
 *
 * @example resolveProfile('ncaa-soccer-2024', { tieValue: 0.5 })
 */
export function resolveProfile(
  name: string = DEFAULT_PROFILE_NAME,
  overrides: ProfileOverrides = {},
): RpiProfile {
  const base = PROFILES.get(name);
  if (!base) {
    throw new DomainError(
      'UNKNOWN_PROFILE',
      `unknown RPI profile "${name}"; known profiles: ${[...PROFILES.keys()].join(', ')}`,
    );
  }
  const custom =
    overrides.weights !== undefined ||
    overrides.tieValue !== undefined ||
    overrides.sosTieValue !== undefined ||
    overrides.locationWeights !== undefined;
  const profile: RpiProfile = {
    ...base,
    name: custom ? `${base.name}+custom` : base.name,
    weights: overrides.weights ? weightsOf(overrides.weights) : base.weights,
    tieValue: overrides.tieValue ?? base.tieValue,
    sosTieValue: overrides.sosTieValue ?? base.sosTieValue,
    locationWeights: overrides.locationWeights
      ? locationOf(overrides.locationWeights)
      : base.locationWeights,
  };
  assertValidProfile(profile);
  return profile;
}

/** Throws a `DomainError` naming the first parameter of `profile` that is out of range. */
export function assertValidProfile(profile: RpiProfile): void {
  const [a, b, c] = profile.weights;
  for (const [label, w] of [
    ['WP weight', a],
    ['OWP weight', b],
    ['OOWP weight', c],
  ] as const) {
    if (!Number.isFinite(w) || w < 0 || w > 1) {
      throw invalid(`${label} must be a number from 0 to 1, got ${w}`);
    }
  }
  if (Math.abs(a + b + c - 1) > 1e-9) {
    // Shown to 12 significant digits: 0.3 + 0.3 + 0.3 is 0.9, not 0.8999999999999999.
    throw invalid(
      `weights must sum to 1, got ${a} + ${b} + ${c} = ${Number((a + b + c).toPrecision(12))}`,
    );
  }
  for (const [label, v] of [
    ['tie value', profile.tieValue],
    ['SOS tie value', profile.sosTieValue],
  ] as const) {
    if (!Number.isFinite(v) || v < 0 || v > 1) {
      throw invalid(`${label} must be a number from 0 to 1, got ${v}`);
    }
  }
  const { homeWin, roadWin } = profile.locationWeights;
  if (!(Number.isFinite(homeWin) && homeWin > 0 && Number.isFinite(roadWin) && roadWin > 0)) {
    throw invalid(`location weights must be positive numbers, got ${homeWin},${roadWin}`);
  }
  const averaging = profile.sosAveraging;
  if (averaging !== undefined && averaging !== 'per-game' && averaging !== 'site-weighted') {
    throw invalid(`SOS averaging must be per-game or site-weighted, got "${averaging}"`);
  }
  const passes = profile.badWins?.passes;
  if (passes !== undefined && passes !== 'once' && passes !== 'until-stable') {
    throw invalid(`bad-win removal passes must be once or until-stable, got "${passes}"`);
  }
  const bonus = profile.qualityWinBonus;
  if (bonus) {
    const bad = bonus.points.findIndex((p) => !(Number.isFinite(p) && p >= 0));
    if (bad >= 0) {
      throw invalid(
        `quality-win points must be numbers >= 0, got ${bonus.points[bad]} for #${bad + 1}`,
      );
    }
    if (!(Number.isFinite(bonus.scale) && bonus.scale >= 0)) {
      throw invalid(`quality-win scale must be a number >= 0, got ${bonus.scale}`);
    }
    if (!(Number.isFinite(bonus.tieShare) && bonus.tieShare >= 0 && bonus.tieShare <= 1)) {
      throw invalid(`quality-win tie share must be a number from 0 to 1, got ${bonus.tieShare}`);
    }
  }
}

/** Whether the profile needs the site-weighted engine (bad wins, quality wins, weighted SOS). */
export function hasWeightedRules(profile: RpiProfile): boolean {
  return (
    profile.sosAveraging === 'site-weighted' ||
    profile.badWins !== undefined ||
    profile.qualityWinBonus !== undefined
  );
}

function weightsOf(values: readonly number[]): RpiProfile['weights'] {
  const [a, b, c] = values;
  if (values.length !== 3 || a === undefined || b === undefined || c === undefined) {
    throw invalid(`weights take three numbers (WP,OWP,OOWP), got ${values.length}`);
  }
  return [a, b, c];
}

function locationOf(values: readonly number[]): LocationWeights {
  const [homeWin, roadWin] = values;
  if (values.length !== 2 || homeWin === undefined || roadWin === undefined) {
    throw invalid(`location weights take two numbers (home win, road win), got ${values.length}`);
  }
  return { homeWin, roadWin };
}

function invalid(message: string): DomainError {
  return new DomainError('INVALID_PROFILE', message);
}
