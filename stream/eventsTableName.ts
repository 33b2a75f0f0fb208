/**
 * The events table's default name, in a module that loads nothing: the CLI's `--table`
 * default needs the name, not the DynamoDB client that `eventStore/eventsTable.ts` (which
 * exports it too) brings.
 */
export const EVENTS_TABLE = 'matchstream-events';
