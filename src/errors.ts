/**
 * Errors of PDSM. Every error the project raises on purpose is a PdsmError with a
 * stable string `code`; tests and callers branch on `code`, never on message text.
 * README.md lists the codes.
 */

export const ERROR_CODES = {
  /** A command-line option or its value is wrong (exit 2). */
  PDSM_ERR_USAGE: 'PDSM_ERR_USAGE',
  /** A config file (-g) is unreadable or malformed (exit 2). */
  PDSM_ERR_CONFIG: 'PDSM_ERR_CONFIG',
  /** A segment exists with the same key but another size (exit 1). */
  PDSM_ERR_SEGMENT_SIZE: 'PDSM_ERR_SEGMENT_SIZE',
  /** A system call on a segment failed (exit 1). */
  PDSM_ERR_SEGMENT: 'PDSM_ERR_SEGMENT',
  /** A registry file is missing, malformed, a symlink or not a regular file. */
  PDSM_ERR_REGISTRY: 'PDSM_ERR_REGISTRY',
  /** Another daemon of the same role and id runs on this host. */
  PDSM_ERR_ALREADY_RUNNING: 'PDSM_ERR_ALREADY_RUNNING',
  /** A view was used after detach. */
  PDSM_ERR_DETACHED: 'PDSM_ERR_DETACHED',
  /** An offset or length is outside a segment. */
  PDSM_ERR_RANGE: 'PDSM_ERR_RANGE',
  /** A network name did not resolve or a socket could not be bound. */
  PDSM_ERR_NETWORK: 'PDSM_ERR_NETWORK',
  /** The master rejected this remote's join (sizes, id, address, version, auth). */
  PDSM_ERR_REJECTED: 'PDSM_ERR_REJECTED',
  /** A key file is unusable (permissions, length, unreadable). */
  PDSM_ERR_KEY_FILE: 'PDSM_ERR_KEY_FILE',
  /** The daemon's private state file is a symlink, not its user's, or writable by others. */
  PDSM_ERR_STATE_FILE: 'PDSM_ERR_STATE_FILE',
  /** A consistent read or write could not get a stable generation in time. */
  PDSM_ERR_BUSY: 'PDSM_ERR_BUSY',
} as const;

export type PdsmErrorCode = keyof typeof ERROR_CODES;

/** Exit status a CLI uses for an error of each code: 2 for usage, 1 for the rest. */
export function exitCodeFor(code: PdsmErrorCode): number {
  return code === 'PDSM_ERR_USAGE' || code === 'PDSM_ERR_CONFIG' ? 2 : 1;
}

export class PdsmError extends Error {
  readonly code: PdsmErrorCode;

  constructor(code: PdsmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PdsmError';
    this.code = code;
  }
}

export function usageError(message: string): PdsmError {
  return new PdsmError('PDSM_ERR_USAGE', message);
}

/** A Node-style system error (code, errno, syscall), as the addon throws them. */
export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isSystemError(err: unknown): err is SystemError {
  return err instanceof Error && typeof (err as Partial<SystemError>).code === 'string' && typeof (err as Partial<SystemError>).syscall === 'string';
}
