import { DomainError } from '../DomainError.js';
import type { AdjustmentTable, AdjustmentTier, SiteAmounts, TableValue } from './RpiProfile.js';

export const RESULTS = ['win', 'tie', 'loss'] as const;
export const SITES = ['home', 'neutral', 'away'] as const;
type Result = (typeof RESULTS)[number];
type Site = (typeof SITES)[number];

/** Values a user supplies for a profile's adjustment table, by tier id (README, "The RPI"). */
export interface AdjustmentOverrides {
  readonly games?: AdjustmentTable['games'];
  readonly tiers?: Readonly<Record<string, TierOverride>>;
}

export interface TierOverride {
  readonly first?: number;
  readonly last?: number;
  readonly win?: Partial<Record<Site, number>>;
  readonly tie?: Partial<Record<Site, number>>;
  readonly loss?: Partial<Record<Site, number>>;
}

export interface ResolvedTier {
  readonly id: string;
  readonly kind: AdjustmentTier['kind'];
  readonly first: number;
  readonly last: number;
  readonly amounts: Readonly<Partial<Record<Result, Record<Site, number>>>>;
}

/** A complete table: every boundary and amount a number. */
export interface ResolvedAdjustments {
  readonly games: AdjustmentTable['games'];
  readonly tiers: readonly ResolvedTier[];
  /** Paths of the values used that no published source confirmed (none supplied by the user). */
  readonly unconfirmed: readonly string[];
}

/**
 * Checks the shape of a user's adjustment values (parsed JSON) and returns them typed. Every
 * error names the offending field, e.g. `tiers.bonus-1.win.home`.
 *
 * @example parseAdjustmentOverrides({ tiers: { 'bonus-1': { first: 1, last: 25 } } })
 */
export function parseAdjustmentOverrides(json: unknown): AdjustmentOverrides {
  const root = objectAt(json, '(root)');
  onlyKeys(root, ['games', 'tiers'], '');
  const out: { games?: AdjustmentTable['games']; tiers?: Record<string, TierOverride> } = {};
  if (root.games !== undefined) {
    if (root.games !== 'non-conference' && root.games !== 'all') {
      throw invalid(`games must be "non-conference" or "all", got ${shown(root.games)}`);
    }
    out.games = root.games;
  }
  if (root.tiers !== undefined) {
    const tiers: Record<string, TierOverride> = {};
    for (const [id, raw] of Object.entries(objectAt(root.tiers, 'tiers'))) {
      const path = `tiers.${id}`;
      const tier = objectAt(raw, path);
      onlyKeys(tier, ['first', 'last', ...RESULTS], `${path}.`);
      const parsed: {
        first?: number;
        last?: number;
        win?: Partial<Record<Site, number>>;
        tie?: Partial<Record<Site, number>>;
        loss?: Partial<Record<Site, number>>;
      } = {};
      for (const bound of ['first', 'last'] as const) {
        const v = tier[bound];
        if (v === undefined) continue;
        if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
          throw invalid(`${path}.${bound} must be a whole number >= 1, got ${shown(v)}`);
        }
        parsed[bound] = v;
      }
      for (const result of RESULTS) {
        if (tier[result] === undefined) continue;
        const sites = objectAt(tier[result], `${path}.${result}`);
        onlyKeys(sites, SITES, `${path}.${result}.`);
        const amounts: Partial<Record<Site, number>> = {};
        for (const site of SITES) {
          const v = sites[site];
          if (v === undefined) continue;
          if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1)) {
            throw invalid(
              `${path}.${result}.${site} must be a number from 0 to 1 (a penalty is given as a positive amount), got ${shown(v)}`,
            );
          }
          amounts[site] = v;
        }
        parsed[result] = amounts;
      }
      tiers[id] = parsed;
    }
    out.tiers = tiers;
  }
  return out;
}

/**
 * The profile's table with the user's values laid over it. Refuses, naming every missing
 * field, when a boundary or amount is still unknown, and when tiers of one kind overlap.
 */
export function resolveAdjustments(
  profileName: string,
  table: AdjustmentTable,
  overrides: AdjustmentOverrides = {},
): ResolvedAdjustments {
  const supplied = overrides.tiers ?? {};
  const known = new Set(table.tiers.map((t) => t.id));
  for (const id of Object.keys(supplied)) {
    if (!known.has(id)) {
      throw invalid(
        `tiers.${id} is not a tier of profile "${profileName}"; its tiers are ${[...known].join(', ')}`,
      );
    }
  }
  const missing: string[] = [];
  const unconfirmed: string[] = [];
  const take = (base: TableValue, given: number | undefined, path: string): number => {
    if (given !== undefined) return given;
    if (base.value === null) {
      missing.push(path);
      return Number.NaN;
    }
    if (!base.confirmed) unconfirmed.push(path);
    return base.value;
  };

  const tiers = table.tiers.map((tier): ResolvedTier => {
    const over = supplied[tier.id] ?? {};
    const path = `tiers.${tier.id}`;
    const amounts: Partial<Record<Result, Record<Site, number>>> = {};
    for (const result of RESULTS) {
      const base: SiteAmounts | undefined = tier[result];
      const given = over[result];
      if (!base) {
        if (given !== undefined) {
          throw invalid(
            `${path}.${result}: a ${tier.kind} tier of this profile has no ${result} amounts`,
          );
        }
        continue;
      }
      amounts[result] = {
        home: take(base.home, given?.home, `${path}.${result}.home`),
        neutral: take(base.neutral, given?.neutral, `${path}.${result}.neutral`),
        away: take(base.away, given?.away, `${path}.${result}.away`),
      };
    }
    return {
      id: tier.id,
      kind: tier.kind,
      first: take(tier.first, over.first, `${path}.first`),
      last: take(tier.last, over.last, `${path}.last`),
      amounts,
    };
  });

  if (missing.length > 0) {
    throw new DomainError(
      'INVALID_PROFILE',
      `the adjusted RPI of profile "${profileName}" needs values no published source gave: ${abridged(table, missing).join(', ')} (supply them in an adjustments file, see README "The RPI")`,
    );
  }
  for (const tier of tiers) {
    if (tier.first > tier.last) {
      throw invalid(`tiers.${tier.id}: first (${tier.first}) is after last (${tier.last})`);
    }
  }
  for (const kind of ['bonus', 'penalty'] as const) {
    const same = tiers.filter((t) => t.kind === kind).sort((a, b) => a.first - b.first);
    for (let i = 1; i < same.length; i++) {
      const a = same[i - 1] as ResolvedTier;
      const b = same[i] as ResolvedTier;
      if (b.first <= a.last) {
        throw invalid(
          `tiers.${a.id} (${a.first}-${a.last}) and tiers.${b.id} (${b.first}-${b.last}) overlap`,
        );
      }
    }
  }
  const games = overrides.games ?? table.games;
  if (overrides.games === undefined && !table.gamesConfirmed) unconfirmed.push('games');
  return { games, tiers, unconfirmed };
}

/** Missing paths, a whole tier as `tiers.<id>.*` and a whole result as `tiers.<id>.<result>.*`. */
function abridged(table: AdjustmentTable, missing: readonly string[]): string[] {
  const gone = new Set(missing);
  const out: string[] = [];
  for (const tier of table.tiers) {
    const path = `tiers.${tier.id}`;
    const results = RESULTS.filter((r) => tier[r] !== undefined);
    const all = [
      `${path}.first`,
      `${path}.last`,
      ...results.flatMap((r) => SITES.map((s) => `${path}.${r}.${s}`)),
    ];
    if (all.every((p) => gone.has(p))) {
      out.push(`${path}.*`);
      continue;
    }
    for (const bound of ['first', 'last'])
      if (gone.has(`${path}.${bound}`)) out.push(`${path}.${bound}`);
    for (const r of results) {
      const sites = SITES.map((s) => `${path}.${r}.${s}`);
      if (sites.every((p) => gone.has(p))) out.push(`${path}.${r}.*`);
      else out.push(...sites.filter((p) => gone.has(p)));
    }
  }
  return out;
}

function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${path} must be an object, got ${shown(value)}`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(
  value: Record<string, unknown>,
  allowed: readonly string[],
  prefix: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw invalid(`${prefix}${key} is not a known field (expected ${allowed.join(', ')})`);
    }
  }
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function invalid(message: string): DomainError {
  return new DomainError('INVALID_PROFILE', `adjustments: ${message}`);
}
