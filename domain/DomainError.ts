/** Stable codes for errors raised by the pure domain core. */
export type DomainErrorCode =
  | 'INVALID_PROFILE'
  | 'UNKNOWN_PROFILE'
  | 'INVALID_OPTION'
  | 'INVALID_GAME';

/**
 * Base class of every error thrown by `domain/`: a stable `code` to branch on,
 * a message a user can act on, and the original `cause` when there is one.
 */
export class DomainError extends Error {
  readonly code: DomainErrorCode;

  constructor(code: DomainErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DomainError';
    this.code = code;
  }
}
