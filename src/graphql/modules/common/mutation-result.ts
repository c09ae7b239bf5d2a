import type { DomainError } from "../../../domain/errors.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../../../domain/errors.ts";

type ErrorClass = new (...args: never[]) => DomainError;

/**
 * Errors option of a contract mutation: its result union is named as the contract
 * names it and holds the entity (direct result) and the errors it can raise.
 */
export function mutationErrors(unionName: string, specific: ErrorClass[] = []) {
  return {
    types: [ValidationError, NotFoundError, ForbiddenError, ConflictError, ...specific],
    directResult: true as const,
    union: { name: unionName },
  };
}
