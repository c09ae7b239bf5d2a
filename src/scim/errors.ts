import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from "../domain/errors.ts";
import { SCIMMY } from "./schemas.ts";

/** An answer in the SCIM error format (RFC 7644 §3.12): status, scimType, detail. */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly scimType: string | null,
    detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
    this.name = "ScimError";
  }

  body() {
    return {
      schemas: [SCIMMY.Messages.ErrorResponse.id],
      status: String(this.status),
      ...(this.scimType ? { scimType: this.scimType } : {}),
      detail: this.message,
    };
  }
}

/** Domain field names as the SCIM resource names them, so a detail names the attribute the client sent. */
export type FieldNames = Record<string, string>;

function renamed(message: string, names: FieldNames): { field: string; text: string } {
  const at = message.indexOf(": ");
  const field = at > 0 ? message.slice(0, at) : "";
  const scimField = names[field.split(".")[0]!];
  return scimField ? { field: scimField, text: `${scimField}${message.slice(at)}` } : { field, text: message };
}

/**
 * The one mapping from what went wrong to a SCIM answer: the library's own SCIM errors
 * as they are, domain errors by class (bad input 400, unknown 404, clash 409), null
 * for anything else, which is the server's fault.
 */
export function scimErrorOf(error: unknown, names: FieldNames): ScimError | null {
  if (error instanceof ScimError) return error;
  if (error instanceof SCIMMY.Types.Error) return new ScimError(error.status, error.scimType ?? null, error.message);
  if (!(error instanceof DomainError)) return null;
  const { field, text } = renamed(error.message, names);
  if (error instanceof NotFoundError) {
    return field === "id" ? new ScimError(404, null, text) : new ScimError(400, "invalidValue", text);
  }
  if (error instanceof ValidationError) return new ScimError(400, "invalidValue", text);
  if (error instanceof ConflictError) {
    const clash = ["userName", "externalId", "displayName", names.email].includes(field);
    return new ScimError(409, clash ? "uniqueness" : null, text);
  }
  if (error instanceof RateLimitedError) return new ScimError(429, null, text, error.retryAfterSeconds);
  if (error instanceof ForbiddenError) return new ScimError(403, null, text);
  return new ScimError(400, null, text);
}
