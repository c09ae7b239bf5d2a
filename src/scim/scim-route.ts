import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ServiceDeps } from "../domain/context.ts";
import { directoryContext } from "../domain/directory/directory.service.ts";
import { jsonProblem, unsafeTextReason } from "../domain/validation.ts";
import { currentRequestId } from "../observability/request-context.ts";
import { type FieldNames, ScimError, scimErrorOf } from "./errors.ts";
import { groupFieldNames, groups } from "./groups.ts";
import type { ScimAnswer, ScimCall } from "./resources.ts";
import { SCIMMY } from "./schemas.ts";
import { userFieldNames, users } from "./users.ts";

// SCIM 2.0 (RFC 7644) at /scim/v2: the identity provider's provisioning service
// (Entra ID's, or any SCIM client) keeps users and approver groups in step with the
// directory. Authenticated by the organization's SCIM secret as a bearer token;
// every write goes through src/domain/directory, audited as the provisioning principal.

export const scimPath = "/scim/v2";

/** Bodies larger than this are refused: Entra ID's largest (a group's member changes) are far smaller. */
const maxBodyBytes = 1024 * 1024;

export interface ScimDeps extends ServiceDeps {
  logger: Logger;
  /** Base of the resource locations the service answers. */
  publicUrl: string;
}

const resourceTypes = { users, groups } as const;
const fieldNames: Record<keyof typeof resourceTypes, FieldNames> = { users: userFieldNames, groups: groupFieldNames };

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new ScimError(413, null, `the request body must be at most ${maxBodyBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ScimError(400, "invalidSyntax", "the request body is not JSON");
  }
  const problem = jsonProblem(body, { maxDepth: 16, maxBytes: maxBodyBytes });
  if (problem) throw new ScimError(400, "invalidValue", `the request body ${problem}`);
  return body;
}

function send(res: ServerResponse, { status, body, location }: ScimAnswer, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    ...(body === undefined ? {} : { "content-type": "application/scim+json; charset=utf-8" }),
    "cache-control": "no-store",
    ...(location ? { location } : {}),
    ...headers,
  });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

function decodedParts(parts: string[], pathname: string): string[] {
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    throw new ScimError(404, null, `no SCIM endpoint at ${pathname}`);
  }
}

function notAllowed(method: string, path: string): ScimError {
  return new ScimError(405, null, `${method} is not supported on ${path}`);
}

/** The discovery endpoints: what this service supports, described by the library from its registries. */
function discovery(kind: string, id: string | undefined, base: string): ScimAnswer {
  const { Schemas, Resources, Config } = SCIMMY;
  if (kind === "serviceproviderconfig" && id === undefined) {
    return { status: 200, body: new Schemas.ServiceProviderConfig(Config.get(), `${base}/ServiceProviderConfig`) };
  }
  const declared = Object.values(Resources.declared() as Record<string, typeof Resources.User>);
  const described =
    kind === "resourcetypes"
      ? declared.map((Resource) => new Schemas.ResourceType(Resource.describe(), `${base}/ResourceTypes`))
      : declared
          .flatMap((Resource) => [Resource.schema.definition, ...Resource.schema.definition.attributes])
          .filter((definition) => definition instanceof SCIMMY.Types.SchemaDefinition)
          .map((definition) => definition.describe(`${base}/Schemas`));
  if (id === undefined) {
    return {
      status: 200,
      body: {
        schemas: [SCIMMY.Messages.ListResponse.id],
        totalResults: described.length,
        startIndex: 1,
        itemsPerPage: described.length,
        Resources: described,
      },
    };
  }
  const one = described.find((item) => item.id.toLowerCase() === id.toLowerCase());
  if (!one) throw new ScimError(404, null, `id: no ${kind === "resourcetypes" ? "resource type" : "schema"} ${id}`);
  return { status: 200, body: one };
}

/** The `/scim/v2/...` route: authenticates, limits, dispatches and answers every failure in SCIM's error format. */
export function scimRoute(deps: ScimDeps) {
  const base = `${deps.publicUrl}${scimPath}`;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://localhost");
    const parts = url.pathname.slice(scimPath.length).split("/").filter(Boolean);
    const resourceKind = (parts[0] ?? "").toLowerCase() as keyof typeof resourceTypes;
    try {
      const [kind = "", id, ...rest] = decodedParts(parts, url.pathname);
      const secret = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
      if (!secret) throw new ScimError(401, null, "the organization's SCIM secret is required as a bearer token");
      const ctx = await directoryContext(deps, secret, currentRequestId());
      if (!ctx) throw new ScimError(401, null, "the SCIM secret is not valid");
      await ctx.quotas.consume("scimRequests", ctx.organizationId);
      for (const [name, value] of url.searchParams) {
        const reason = unsafeTextReason(value);
        if (reason) throw new ScimError(400, "invalidValue", `${name}: ${reason}`);
      }
      if (rest.length > 0) throw new ScimError(404, null, `no SCIM endpoint at ${url.pathname}`);
      if (["serviceproviderconfig", "resourcetypes", "schemas"].includes(kind.toLowerCase())) {
        if (method !== "GET") throw notAllowed(method, url.pathname);
        return send(res, discovery(kind.toLowerCase(), id, base));
      }
      if (!Object.hasOwn(resourceTypes, resourceKind)) {
        throw new ScimError(404, null, `no SCIM endpoint at ${url.pathname}`);
      }
      const resource = resourceTypes[resourceKind];
      const call: ScimCall = {
        ctx,
        db: deps.db,
        base,
        query: url.searchParams,
        body: ["POST", "PUT", "PATCH"].includes(method) ? await readBody(req) : undefined,
      };
      if (id === undefined) {
        if (method === "GET") return send(res, await resource.list(call));
        if (method === "POST") return send(res, await resource.create(call));
        throw notAllowed(method, url.pathname);
      }
      if (method === "GET") return send(res, await resource.get(call, id));
      if (method === "PUT") return send(res, await resource.replace(call, id));
      if (method === "PATCH") return send(res, await resource.patch(call, id));
      if (method === "DELETE") return send(res, await resource.delete(call, id));
      throw notAllowed(method, url.pathname);
    } catch (error) {
      const scim = scimErrorOf(error, Object.hasOwn(fieldNames, resourceKind) ? fieldNames[resourceKind] : {});
      if (!scim) {
        deps.logger.error({ err: error }, "SCIM request failed");
        return send(res, { status: 500, body: new ScimError(500, null, "internal error").body() });
      }
      send(
        res,
        { status: scim.status, body: scim.body() },
        {
          ...(scim.status === 401 ? { "www-authenticate": 'Bearer realm="SCIM"' } : {}),
          ...(scim.retryAfterSeconds ? { "retry-after": String(scim.retryAfterSeconds) } : {}),
        },
      );
    }
  };
}
