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
  readonly details: Readonly<Record<string, unknown>>;
}

/** The run's summary: the totals of every scenario. */
export function summarize(results: readonly ScenarioResult[]) {
  const sum = (key: keyof ScenarioResult) => results.reduce((n, r) => n + (r[key] as number), 0);
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
    results,
  };
}
