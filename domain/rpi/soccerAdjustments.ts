import type { AdjustmentTable, AdjustmentTier, SiteAmounts, TableValue } from './profileTypes.js';
import { SOCCER_2024_CHANGES } from './ruleSources.js';

/** A value no published source gave: it must be supplied (README, "The RPI"). */
const MISSING: TableValue = { value: null, confirmed: false };
const MISSING_SITES: SiteAmounts = { home: MISSING, neutral: MISSING, away: MISSING };

function confirmed(value: number, source: string): TableValue {
  return { value, confirmed: true, source };
}

function tier(
  id: string,
  kind: AdjustmentTier['kind'],
  first: TableValue,
  last: TableValue,
  results: readonly ('win' | 'tie' | 'loss')[],
): AdjustmentTier {
  return {
    id,
    kind,
    first,
    last,
    ...Object.fromEntries(results.map((r) => [r, MISSING_SITES])),
  };
}

const CHANGES = SOCCER_2024_CHANGES.url;

/**
 * The pre-2024 regime. Tier boundaries: bonuses for wins and ties against ranks 1–40 and
 * 41–80, penalties for losses and ties against the second-to-bottom 40 and the bottom 40
 * (confirmed by the 2024 article). No published source at hand states the amounts.
 */
export const SOCCER_2023_ADJUSTMENTS: AdjustmentTable = {
  description:
    'pre-2024 bonuses for wins and ties against unadjusted-RPI ranks 1–40 and 41–80, penalties for losses and ties against the second-to-bottom 40 and the bottom 40',
  games: 'non-conference',
  gamesConfirmed: false,
  tiers: [
    tier('bonus-1', 'bonus', confirmed(1, CHANGES), confirmed(40, CHANGES), ['win', 'tie']),
    tier('bonus-2', 'bonus', confirmed(41, CHANGES), confirmed(80, CHANGES), ['win', 'tie']),
    tier('penalty-1', 'penalty', confirmed(41, CHANGES), confirmed(80, CHANGES), ['tie', 'loss']),
    tier('penalty-2', 'penalty', confirmed(1, CHANGES), confirmed(40, CHANGES), ['tie', 'loss']),
  ],
};

/**
 * The 2024 regime: three bonus tiers and two penalty tiers, amounts by site. No published
 * source at hand states the boundaries or the amounts; every value must be supplied.
 */
export const SOCCER_2024_ADJUSTMENTS: AdjustmentTable = {
  description:
    'since 2024: three bonus tiers (wins and ties against the top of the unadjusted RPI) and two penalty tiers (losses and ties against its bottom), amounts by site',
  games: 'non-conference',
  gamesConfirmed: false,
  tiers: [
    tier('bonus-1', 'bonus', MISSING, MISSING, ['win', 'tie']),
    tier('bonus-2', 'bonus', MISSING, MISSING, ['win', 'tie']),
    tier('bonus-3', 'bonus', MISSING, MISSING, ['win', 'tie']),
    tier('penalty-1', 'penalty', MISSING, MISSING, ['tie', 'loss']),
    tier('penalty-2', 'penalty', MISSING, MISSING, ['tie', 'loss']),
  ],
};
