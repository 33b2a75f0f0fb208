/** What one chaos scenario found. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly seed: number;
  readonly passed: boolean;
  /** Events that went into the store. */
  readonly events_in: number;
  /** Events the read models applied. */
  readonly events_applied: number;
  /** Input refused with a reason (rejects file). */
  readonly rejected: number;
  /** Kept in a dead-letter queue with a reason. */
  readonly dead_lettered: number;
  /** Events or results missing at the end. */
  readonly lost: number;
  /** Events or effects there twice. */
  readonly duplicated: number;
  /** Documents or rankings that differ from a rebuild from scratch. */
  readonly divergences: number;
  /** Processes killed with SIGKILL. */
  readonly kills?: number;
  /** Faults injected: failed or delayed calls, copies, bad rows, planted items, races lost. */
  readonly faults_injected?: number;
  /** Wall time of the scenario, in seconds. */
  readonly seconds?: number;
  readonly details: Readonly<Record<string, unknown>>;
}

/** A scenario's figures: what it moved, how often it was broken, how long it took. */
export interface ScenarioFigures {
  readonly scenario: string;
  readonly passed: boolean;
  readonly events_in: number;
  readonly kills: number;
  readonly faults_injected: number;
  readonly seconds: number;
}

/** Every number under `value` added up (the counts of `details.injected`, nested or not). */
function countsIn(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object')
    return Object.values(value).reduce((n: number, v) => n + countsIn(v), 0);
  return 0;
}

/**
 * Faults a scenario injected: what it says, else what its details count (`injected` per kind,
 * or the `planted` items of a poisoned store).
 */
export function faultsOf(result: ScenarioResult): number {
  if (result.faults_injected !== undefined) return result.faults_injected;
  if (result.details.injected !== undefined) return countsIn(result.details.injected);
  const planted = result.details.planted;
  return Array.isArray(planted) ? planted.length : 0;
}

export function figuresOf(result: ScenarioResult): ScenarioFigures {
  return {
    scenario: result.scenario,
    passed: result.passed,
    events_in: result.events_in,
    kills: result.kills ?? 0,
    faults_injected: faultsOf(result),
    seconds: result.seconds ?? 0,
  };
}

/** The run's summary: the totals of every scenario, and each one's figures. */
export function summarize(results: readonly ScenarioResult[]) {
  const sum = (key: keyof ScenarioResult) => results.reduce((n, r) => n + (r[key] as number), 0);
  const figures = results.map(figuresOf);
  return {
    scenarios: results.length,
    passed: results.filter((r) => r.passed).length,
    events_in: sum('events_in'),
    events_applied: sum('events_applied'),
    rejected: sum('rejected'),
    dead_lettered: sum('dead_lettered'),
    lost: sum('lost'),
    duplicated: sum('duplicated'),
    divergences: sum('divergences'),
    kills: figures.reduce((n, f) => n + f.kills, 0),
    faults_injected: figures.reduce((n, f) => n + f.faults_injected, 0),
    seconds: Number(figures.reduce((n, f) => n + f.seconds, 0).toFixed(1)),
    figures,
    results,
  };
}
