import type { Db } from "../db/client.ts";
import type { ServiceContext } from "../domain/context.ts";
import { ScimError } from "./errors.ts";
import { keptResource, maxResults, type PatchOperation, SCIMMY } from "./schemas.ts";

/** One SCIM call, authenticated: the organization's provisioning context and what was sent. */
export interface ScimCall {
  ctx: ServiceContext;
  db: Db;
  /** The service's base URL, `<PUBLIC_URL>/scim/v2`: resource locations start with it. */
  base: string;
  query: URLSearchParams;
  body: unknown;
}

export interface ScimAnswer {
  status: number;
  body?: unknown;
  location?: string;
}

type SchemaClass = typeof SCIMMY.Schemas.User | typeof SCIMMY.Schemas.Group;
type ResourceClass = typeof SCIMMY.Resources.User | typeof SCIMMY.Resources.Group;

/** A resource as it came in, checked against its schema (types, required attributes); 400 invalidValue otherwise. */
export function incoming<S extends SchemaClass>(Schema: S, data: unknown): InstanceType<S> {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ScimError(400, "invalidSyntax", "the request body must be one JSON object");
  }
  try {
    return new Schema(data, "in") as InstanceType<S>;
  } catch (error) {
    if (error instanceof TypeError) throw new ScimError(400, "invalidValue", error.message);
    throw error;
  }
}

/**
 * A POST or PUT body as a resource: only the attributes Elevate keeps (see `keptAttributes`),
 * so an attribute it never stores cannot fail the library's schema check.
 */
export function incomingSent<S extends SchemaClass>(Schema: S, kept: readonly string[], body: unknown) {
  const sent =
    body && typeof body === "object" && !Array.isArray(body)
      ? keptResource(Schema.definition, kept, body as Record<string, unknown>)
      : body;
  return incoming(Schema, sent);
}

/** The `attributes` or `excludedAttributes` a read asked for, as the library's filter over its answer. */
export function projection(Resource: ResourceClass, query: URLSearchParams) {
  const asked = Object.fromEntries(
    ["attributes", "excludedAttributes"].flatMap((name) => {
      const value = query.get(name);
      return value === null ? [] : [[name, value]];
    }),
  );
  try {
    return new Resource(undefined, asked).attributes;
  } catch (error) {
    // The library throws TypeError on some malformed lists (`userName,,`) instead of its own error.
    if (error instanceof TypeError) throw new ScimError(400, "invalidFilter", `attributes: ${error.message}`);
    throw error;
  }
}

/** Whether an answer shows `attribute` (members of a group are left out when not asked for). */
export function shows(query: URLSearchParams, attribute: string): boolean {
  const list = (name: string) =>
    query
      .get(name)
      ?.split(",")
      .map((item) => item.trim().toLowerCase());
  const only = list("attributes");
  if (only) return only.some((item) => item === attribute || item.startsWith(`${attribute}.`));
  return !list("excludedAttributes")?.includes(attribute);
}

function wholeNumber(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^-?\d{1,9}$/.test(raw.trim())) throw new ScimError(400, "invalidValue", `${name}: must be a whole number`);
  return Number(raw);
}

/** Pagination (RFC 7644 §3.4.2.4): startIndex from 1, count at most `maxResults`. */
export function page(query: URLSearchParams) {
  const startIndex = Math.max(1, wholeNumber(query, "startIndex", 1));
  const count = Math.min(maxResults, Math.max(0, wholeNumber(query, "count", 100)));
  return { startIndex, count, skip: startIndex - 1 };
}

/**
 * A page of resources as a ListResponse (RFC 7644 §3.4.2). Written here, not by the
 * library's ListResponse, which pages a full result set itself: the database did the
 * filtering and paging.
 */
export function listAnswer(resources: unknown[], totalResults: number, startIndex: number): ScimAnswer {
  return {
    status: 200,
    body: {
      schemas: [SCIMMY.Messages.ListResponse.id],
      totalResults,
      startIndex,
      itemsPerPage: resources.length,
      Resources: resources,
    },
  };
}

/**
 * A PATCH request's operations, checked by the library (schemas, `op` in any case,
 * `value` and `path` where required), reduced to those Elevate applies.
 */
export function patchOperations(
  Schema: SchemaClass,
  body: unknown,
  keep: (definition: typeof Schema.definition, operations: PatchOperation[]) => PatchOperation[],
) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ScimError(400, "invalidSyntax", "the request body must be one PatchOp message");
  }
  const message = new SCIMMY.Messages.PatchOp(body as ConstructorParameters<typeof SCIMMY.Messages.PatchOp>[0]);
  return keep(Schema.definition, message.Operations as PatchOperation[]);
}

/** Applies PATCH operations to the resource as it stands; the patched resource, or the same when nothing changed. */
export async function patched<R extends InstanceType<SchemaClass>>(
  current: R,
  operations: PatchOperation[],
): Promise<R> {
  if (operations.length === 0) return current;
  const message = new SCIMMY.Messages.PatchOp({
    schemas: [SCIMMY.Messages.PatchOp.id],
    Operations: operations as SCIMMY.Messages.PatchOp.PatchOpOperation[],
  });
  try {
    return ((await message.apply(current)) as R | undefined) ?? current;
  } catch (error) {
    if (error instanceof TypeError) throw new ScimError(400, "invalidValue", error.message);
    throw error;
  }
}
