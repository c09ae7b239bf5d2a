import type { ErrorCode } from "./graphql/graphql.ts";

/**
 * Exit codes, one per class of failure, so scripts can tell "you may not" from
 * "it is already decided" without parsing text. Documented in the README; never renumber.
 */
export const exitCodes = {
  ok: 0,
  /** Something the command did not expect (a bug, or an answer it does not understand). */
  unexpected: 1,
  /** Bad command line: unknown cmdlet or parameter, missing or malformed value. */
  usage: 2,
  /** Not signed in, the token expired or was refused, or sign-in failed. */
  authentication: 3,
  /** The server could not be reached or failed (network error, HTTP 5xx). */
  unavailable: 4,
  /** A Test- cmdlet answered no: access denied, or the audit chain is broken. */
  testFailed: 5,
} as const;

/** One exit code per error class of the API; a new ErrorCode fails to compile until it has one. */
export const apiExitCodes: Record<ErrorCode, number> = {
  VALIDATION: 10,
  NOT_FOUND: 11,
  FORBIDDEN: 12,
  CONFLICT: 13,
  LIMIT_EXCEEDED: 14,
  CONTROL_DISABLED: 15,
  NO_POLICY: 16,
  SELF_APPROVAL: 17,
  NOT_AN_APPROVER: 18,
  ALREADY_DECIDED: 19,
  REQUEST_EXPIRED: 20,
  RATE_LIMITED: 21,
  STEP_UP_REQUIRED: 22,
};

/** A failure the command reports as `<code>: <message>` before exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super("USAGE", message, exitCodes.usage);
  }
}

export class AuthenticationError extends CliError {
  constructor(message: string) {
    super("UNAUTHENTICATED", message, exitCodes.authentication);
  }
}

export class UnavailableError extends CliError {
  constructor(message: string) {
    super("UNAVAILABLE", message, exitCodes.unavailable);
  }
}

/** An error the API answered with one of its error codes. */
export class ApiError extends CliError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message, apiExitCodes[code]);
  }
}

export function isApiErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(apiExitCodes, code);
}
