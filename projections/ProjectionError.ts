/** Stable codes of `ProjectionError`. */
export type ProjectionErrorCode =
  | 'DOCUMENT_TOO_LARGE'
  | 'UNKNOWN_PROJECTION'
  | 'NOT_FOUND'
  | 'BAD_PARAMETER';

/** A read model that cannot store or answer something, with a stable code. */
export class ProjectionError extends Error {
  readonly code: ProjectionErrorCode;

  constructor(code: ProjectionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProjectionError';
    this.code = code;
  }
}
