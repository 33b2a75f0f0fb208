/**
 * Names that earlier releases wrote into saga events, with the names they have now. Stored
 * events are never rewritten: the fold reads every saga type, step and compensation name
 * through `currentName`, so a saga started before the renaming resumes under its new names,
 * and the command line accepts either spelling.
 */
const RENAMED: Readonly<Record<string, string>> = {
  'rpi-calculation': 'rpi_calculation',
  'collect-matches': 'collect_matches',
  'calculate-rpi': 'calculate_rpi',
  'publish-results': 'publish_results',
  'update-cache': 'update_cache',
  'release-snapshot': 'rollback_matches',
  'retract-calculation': 'rollback_calculation',
  'retract-results': 'rollback_publication',
  'restore-cache': 'rollback_cache',
};

/** A saga type, step or compensation name as it is called now (`collect-matches` → `collect_matches`). */
export function currentName(name: string): string {
  return RENAMED[name] ?? name;
}

/** Saga statuses of earlier releases (`running` is `in_progress` now). */
const RENAMED_STATUS: Readonly<Record<string, string>> = { running: 'in_progress' };

/** A saga status as it is called now. */
export function currentStatus(status: string): string {
  return RENAMED_STATUS[status] ?? status;
}
