import {
  AlreadyDecidedError,
  ConflictError,
  ControlDisabledError,
  type DomainError,
  errorCodes,
  ForbiddenError,
  LimitExceededError,
  NoPolicyError,
  NotAnApproverError,
  NotFoundError,
  RateLimitedError,
  RequestExpiredError,
  SelfApprovalError,
  StepUpRequiredError,
  ValidationError,
} from "../../../domain/errors.ts";
import { builder } from "../../builder.ts";

// The one mapping from domain errors to GraphQL: one object type per error class,
// all implementing the contract's `Error` interface.
export const ErrorCodeEnum = builder.enumType("ErrorCode", { values: errorCodes });

export const ErrorInterface = builder.interfaceRef<DomainError>("Error").implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
    message: t.exposeString("message"),
  }),
});

function errorObject(name: string, errorClass: new (message: string) => DomainError) {
  return builder.objectType(errorClass, {
    name,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof errorClass,
  });
}

builder.objectType(ValidationError, {
  name: "ValidationError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({ field: t.exposeString("field", { description: "The input field that broke a rule" }) }),
});
builder.objectType(NotFoundError, {
  name: "NotFoundError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: (t) => ({ field: t.exposeString("field") }),
});
errorObject("ForbiddenError", ForbiddenError);
errorObject("ConflictError", ConflictError);
errorObject("LimitExceededError", LimitExceededError);
errorObject("ControlDisabledError", ControlDisabledError);
errorObject("NoPolicyError", NoPolicyError);
errorObject("SelfApprovalError", SelfApprovalError);
errorObject("NotAnApproverError", NotAnApproverError);
errorObject("AlreadyDecidedError", AlreadyDecidedError);
errorObject("RequestExpiredError", RequestExpiredError);
builder.objectType(StepUpRequiredError, {
  name: "StepUpRequiredError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof StepUpRequiredError,
  description: "The decision needs a sign-in with multi-factor authentication; nothing was recorded",
  fields: (t) => ({ field: t.exposeString("field") }),
});
builder.objectType(RateLimitedError, {
  name: "RateLimitedError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof RateLimitedError,
  fields: (t) => ({ retryAfterSeconds: t.exposeInt("retryAfterSeconds") }),
});
