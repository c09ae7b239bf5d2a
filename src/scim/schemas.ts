import SCIMMY from "scimmy";

// SCIM 2.0 schemas, filters and PATCH come from SCIMMY (RFC 7643/7644). Its resource
// and schema registries are process-wide, so they are set up once here, the same way
// however often this module is loaded.

const { Config, Resources, Schemas, Types } = SCIMMY;

/** Where a group's mail address comes from when the directory has one (Entra: map the group's `mail` to it). */
export const groupExtensionId = "urn:ietf:params:scim:schemas:extension:elevate:2.0:Group";

const groupExtension = new Types.SchemaDefinition(
  "ElevateGroup",
  groupExtensionId,
  "The approver group's mail address (Elevate)",
  [
    new Types.Attribute("string", "mail", {
      description: "The mail-enabled security group's address; without it, derived from displayName",
      caseExact: false,
      uniqueness: "server",
    }),
  ],
);

if (!Schemas.Group.definition.attributes.some((attribute) => (attribute as { id?: string }).id === groupExtensionId)) {
  // Its types name Schema classes; a SchemaDefinition is what it takes at run time (its documented use).
  Schemas.Group.extend(groupExtension as never);
}
if (!Resources.declared(Resources.User)) Resources.declare(Resources.User);
if (!Resources.declared(Resources.Group)) Resources.declare(Resources.Group);

/** The most resources one page answers. */
export const maxResults = 200;

Config.set({
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    {
      type: "oauthbearertoken",
      name: "OAuth Bearer Token",
      description: "The organization's SCIM secret (npm run org -- rotate-scim-secret) as a bearer token",
    },
  ],
});

export { SCIMMY };

/**
 * The attributes Elevate keeps, per resource type; the directory may send any other
 * (phone numbers, addresses, the enterprise extension...), which are accepted and
 * not kept. Lower case, as SCIM attribute names are case-insensitive.
 */
export const keptAttributes = {
  User: ["username", "displayname", "name", "active", "usertype", "externalid"],
  Group: ["displayname", "externalid", "members", groupExtensionId.toLowerCase()],
} as const;

type Definition = InstanceType<typeof Types.SchemaDefinition>;
type Attribute = InstanceType<typeof Types.Attribute>;

/** Whether a path (`name.givenName`, `members[value eq "x"]`, `urn:...:Group:mail`) is under a kept attribute. */
function isKept(kept: readonly string[], path: string): boolean {
  const lower = path.toLowerCase();
  if (lower.startsWith("urn:")) return kept.some((name) => name.startsWith("urn:") && lower.startsWith(name));
  return kept.includes(lower.split(/[.[]/)[0]!);
}

/** The attribute a path names, filters left out; undefined when the schema has none. */
function attributeAt(definition: Definition, path: string): Attribute | Definition | undefined {
  try {
    return definition.attribute(path.replace(/\[[^\]]*\]/g, "")) as Attribute | Definition;
  } catch {
    return undefined;
  }
}

/**
 * Entra ID sends booleans as "True" and "False" (`"active": "False"` to disable a
 * user); they are read as the booleans they stand for, wherever the schema says boolean.
 */
function withBooleans(attribute: Attribute | Definition | undefined, value: unknown): unknown {
  if (attribute === undefined) return value;
  if (Array.isArray(value)) return value.map((item) => withBooleans(attribute, item));
  if (attribute instanceof Types.Attribute && attribute.type === "boolean" && typeof value === "string") {
    const word = value.toLowerCase();
    return word === "true" ? true : word === "false" ? false : value;
  }
  if (value === null || typeof value !== "object") return value;
  const children = attribute instanceof Types.Attribute ? (attribute.subAttributes ?? []) : attribute.attributes;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      const child =
        attribute instanceof Types.SchemaDefinition
          ? attributeAt(attribute, key)
          : children.find((candidate) => candidate.name.toLowerCase() === key.toLowerCase());
      return [key, withBooleans(child as Attribute | Definition | undefined, item)];
    }),
  );
}

/** A resource body as sent, with only the kept attributes (and its `schemas`), booleans read as booleans. */
export function keptResource(definition: Definition, kept: readonly string[], body: Record<string, unknown>) {
  const fields = Object.entries(body).filter(([key]) => key.toLowerCase() === "schemas" || isKept(kept, key));
  return withBooleans(definition, Object.fromEntries(fields)) as Record<string, unknown>;
}

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

/**
 * PATCH operations as Elevate applies them: those on attributes it does not keep are
 * dropped (a path filter on an attribute never answered would otherwise find no
 * target), a replace without a path keeps its kept attributes, booleans are read.
 */
export function keptOperations(definition: Definition, kept: readonly string[], operations: PatchOperation[]) {
  return operations.flatMap((operation): PatchOperation[] => {
    if (operation.path !== undefined) {
      return isKept(kept, operation.path)
        ? [{ ...operation, value: withBooleans(attributeAt(definition, operation.path), operation.value) }]
        : [];
    }
    if (operation.value === null || typeof operation.value !== "object" || Array.isArray(operation.value)) {
      return [operation];
    }
    const value = Object.fromEntries(
      Object.entries(operation.value)
        .filter(([key]) => isKept(kept, key))
        .map(([key, item]) => [key, withBooleans(attributeAt(definition, key), item)]),
    );
    return Object.keys(value).length > 0 ? [{ ...operation, value }] : [];
  });
}
