/**
 * The events table's default name, in a module that loads nothing: the CLI's `--table`
 * default needs the name, not the DynamoDB client that `eventStore/eventsTable.ts` brings.
 * That module declares the same name; test/unit/cli/optionDefaults.unit.test.ts keeps the two
 * equal until it takes it from here.
 */
export const EVENTS_TABLE = 'matchstream-events';
