import type { CombinedError } from "urql";
import { graphql } from "../gql/index.ts";

// How every mutation asks for the API's typed errors (`...MutationError` in its result
// union); codegen adds this definition to each document that spreads it.
graphql(`
  fragment MutationError on Error {
    code
    message
    ... on ValidationError {
      field
    }
    ... on NotFoundError {
      field
    }
  }
`);

/** One of the API's typed errors (the `Error` interface; ValidationError and NotFoundError add `field`). */
export interface ApiError {
  code: string;
  message: string;
  /** The input field the error is about, when the API names one. */
  field?: string;
}

type Typed = { __typename?: string };

export type Outcome<T> = { ok: T; error?: undefined } | { ok?: undefined; error: ApiError };

/**
 * Splits a mutation's answer into the entity it asked for or the error to show: a
 * typed error from the result union, or a transport / GraphQL error.
 */
export function outcome<R extends Typed, N extends string>(
  result: { data?: Record<string, R> | null; error?: CombinedError },
  typename: N,
): Outcome<Extract<R, { __typename?: N }>> {
  const value = result.data ? Object.values(result.data)[0] : undefined;
  if (value?.__typename === typename) return { ok: value as Extract<R, { __typename?: N }> };
  if (value && "code" in value && "message" in value) {
    const { code, message } = value as unknown as ApiError;
    const field = "field" in value ? (value.field as string) : undefined;
    return { error: { code, message, field } };
  }
  return { error: { code: "ERROR", message: result.error?.message ?? "The server gave no answer" } };
}

/** The API prefixes a field's message with the field name; next to the field it goes without. */
export function messageForField(error: ApiError): string {
  return error.field && error.message.startsWith(`${error.field}: `)
    ? error.message.slice(error.field.length + 2)
    : error.message;
}

/** Whether a query failed because the caller may not read it (the API answers FORBIDDEN). */
export function isForbidden(error: CombinedError | undefined): boolean {
  return error?.graphQLErrors.some((graphQLError) => graphQLError.extensions.code === "FORBIDDEN") ?? false;
}
