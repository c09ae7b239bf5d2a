/**
 * Domain errors. Each code of the API contract's ErrorCode has one class, so the
 * GraphQL layer maps them by class and every door (GraphQL, email page, jobs)
 * sees the same failures.
 */
export const errorCodes = [
  "VALIDATION",
  "NOT_FOUND",
  "FORBIDDEN",
  "CONFLICT",
  "LIMIT_EXCEEDED",
  "CONTROL_DISABLED",
  "NO_POLICY",
  "SELF_APPROVAL",
  "NOT_AN_APPROVER",
  "ALREADY_DECIDED",
  "REQUEST_EXPIRED",
  "RATE_LIMITED",
  "STEP_UP_REQUIRED",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

export class ValidationError extends DomainError {
  readonly code = "VALIDATION";
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field}: ${rule}`);
    this.name = "ValidationError";
  }
}

export class NotFoundError extends DomainError {
  readonly code = "NOT_FOUND";
  constructor(
    readonly field: string,
    what: string,
  ) {
    super(`${field}: no ${what} with this value in your organization`);
    this.name = "NotFoundError";
  }
}

export class ForbiddenError extends DomainError {
  readonly code = "FORBIDDEN";
}

export class ConflictError extends DomainError {
  readonly code = "CONFLICT";
}

export class LimitExceededError extends DomainError {
  readonly code = "LIMIT_EXCEEDED";
}

export class ControlDisabledError extends DomainError {
  readonly code = "CONTROL_DISABLED";
}

export class NoPolicyError extends DomainError {
  readonly code = "NO_POLICY";
}

export class SelfApprovalError extends DomainError {
  readonly code = "SELF_APPROVAL";
}

export class NotAnApproverError extends DomainError {
  readonly code = "NOT_AN_APPROVER";
}

export class AlreadyDecidedError extends DomainError {
  readonly code = "ALREADY_DECIDED";
}

export class RequestExpiredError extends DomainError {
  readonly code = "REQUEST_EXPIRED";
}

export class RateLimitedError extends DomainError {
  readonly code = "RATE_LIMITED";
  constructor(
    message: string,
    /** When trying again may succeed. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = "RateLimitedError";
  }
}

/**
 * The decision needs a stronger sign-in than the caller's token shows: the policy (or
 * the organization) requires multi-factor authentication at decision. Nothing was
 * recorded; signing in again with MFA and deciding once more succeeds.
 */
export class StepUpRequiredError extends DomainError {
  readonly code = "STEP_UP_REQUIRED";
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field}: ${rule}`);
    this.name = "StepUpRequiredError";
  }
}
