/**
 * The names of the read models of `READ_MODELS`, in its order, for what checks a name without
 * loading the read models: the CLI's option parsers. A read model added to `READ_MODELS` is
 * named here too (test/unit/cli/optionDefaults.unit.test.ts says so when it is not).
 */
export const READ_MODEL_NAMES = [
  'teams',
  'matches',
  'standings',
  'rankings',
  'sagas',
  'pipeline-stats',
] as const;
