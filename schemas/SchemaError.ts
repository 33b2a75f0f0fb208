/** Stable codes of `SchemaError`. */
export type SchemaErrorCode =
  | 'SCHEMA_INVALID'
  | 'UNKNOWN_EVENT_TYPE'
  | 'UNKNOWN_VERSION'
  | 'UNKNOWN_FINGERPRINT'
  | 'FINGERPRINT_MISMATCH'
  | 'CORRUPT_DATA'
  | 'MISSING_UPCASTER'
  | 'UPCAST_FAILED'
  | 'INVALID_DATA';

/** What a `SchemaError` is about: enough to find the event or schema, never the payload. */
export interface SchemaErrorContext {
  readonly eventId?: string;
  readonly eventType?: string;
  readonly version?: number;
  readonly fingerprint?: string;
  readonly file?: string;
}

/**
 * A schema that cannot be loaded, data that cannot be encoded, or stored bytes that cannot be
 * decoded to the latest version. Carries a stable `code` and the ids needed to act.
 */
export class SchemaError extends Error {
  readonly code: SchemaErrorCode;
  readonly context: SchemaErrorContext;

  constructor(
    code: SchemaErrorCode,
    message: string,
    context: SchemaErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(`${message}${describe(context)}`, options);
    this.name = 'SchemaError';
    this.code = code;
    this.context = context;
  }
}

function describe(context: SchemaErrorContext): string {
  const parts = [
    context.eventId && `event ${context.eventId}`,
    context.eventType &&
      `type ${context.eventType}${context.version ? ` v${context.version}` : ''}`,
    context.fingerprint && `fingerprint ${context.fingerprint.slice(0, 16)}`,
    context.file && `file ${context.file}`,
  ].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
