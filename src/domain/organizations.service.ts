import { createHash, randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { installExchangeCatalog } from "./catalog/catalog.service.ts";
import { type ServiceDeps, serviceContext } from "./context.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { transition } from "./transition.ts";
import { addUser } from "./users/users.service.ts";
import { emailAddress, nonEmptyText, parseInput, safeString } from "./validation.ts";

// Organizations are registered by the operator (scripts/organizations.ts), one per
// identity provider tenant: the tenant's tokens then sign its users in.

const registerInput = z.object({
  name: nonEmptyText(128),
  tenantId: safeString()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be the identity provider's tenant ID (letters, digits, . _ -)"),
  admins: z
    .array(
      z.object({
        email: emailAddress,
        displayName: nonEmptyText(256).optional(),
        /** Known subject (the demo); otherwise bound at the admin's first sign-in. */
        subject: nonEmptyText(256).optional(),
      }),
    )
    .min(1, "must name at least one administrator"),
  rolesFromToken: z.boolean().default(false),
});

/**
 * Registers an organization: its control (off, with the product defaults), the
 * Exchange catalog, and its first administrators, invited by address: each becomes
 * that user at the first sign-in whose token carries the address. Audited in the new
 * organization's own chain.
 */
export async function registerOrganization(deps: ServiceDeps, rawInput: unknown) {
  const input = parseInput(registerInput, rawInput);
  const clash = await deps.db.organization.findFirst({
    where: { OR: [{ name: input.name }, { tenantId: input.tenantId }] },
    select: { name: true, tenantId: true },
  });
  if (clash) {
    throw new ConflictError(
      clash.name === input.name
        ? `name: an organization named ${input.name} exists`
        : `tenantId: tenant ${input.tenantId} is registered already`,
    );
  }
  const ctx = serviceContext(deps, randomUUID(), null);
  return transition(ctx, async (scope) => {
    const organization = await scope.tx.organization.create({
      data: {
        id: ctx.organizationId,
        name: input.name,
        tenantId: input.tenantId,
        rolesFromToken: input.rolesFromToken,
        control: { create: {} },
      },
    });
    await installExchangeCatalog(scope.tx, organization.id);
    scope.audit({
      action: "New-Organization",
      subjectId: organization.id,
      details: { name: organization.name, tenantId: organization.tenantId, rolesFromToken: input.rolesFromToken },
    });
    for (const admin of input.admins) {
      await addUser(
        ctx,
        scope,
        {
          email: admin.email,
          displayName: admin.displayName ?? admin.email,
          kind: "MEMBER",
          roles: ["ADMIN"],
          subject: admin.subject ?? null,
        },
        "operator",
      );
    }
    return organization;
  });
}

async function organizationNamed(db: Db, nameOrTenant: string) {
  const organization = await db.organization.findFirst({
    where: { OR: [{ name: nameOrTenant }, { tenantId: nameOrTenant }] },
  });
  if (!organization) throw new NotFoundError("organization", "organization by that name or tenant");
  return organization;
}

export function hashScimSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/**
 * Issues the organization's SCIM bearer secret (replacing any earlier one, which
 * stops working at once) and returns it: it is shown once and stored only hashed.
 */
export async function rotateScimSecret(deps: ServiceDeps, nameOrTenant: string): Promise<string> {
  const organization = await organizationNamed(deps.db, nameOrTenant);
  const secret = `scim_${randomBytes(32).toString("base64url")}`;
  await transition(serviceContext(deps, organization.id, null), async (scope) => {
    await scope.tx.organization.update({
      where: { id: organization.id },
      data: { scimSecretHash: hashScimSecret(secret) },
    });
    scope.audit({ action: "Set-Organization", subjectId: organization.id, details: { scimSecret: "rotated" } });
  });
  return secret;
}

/** Whether the organization takes its users' roles from the identity provider's tokens. */
export async function setRolesFromToken(deps: ServiceDeps, nameOrTenant: string, rolesFromToken: boolean) {
  const organization = await organizationNamed(deps.db, nameOrTenant);
  return transition(serviceContext(deps, organization.id, null), async (scope) => {
    const updated = await scope.tx.organization.update({ where: { id: organization.id }, data: { rolesFromToken } });
    scope.effect({ kind: "actorsChanged", organizationId: organization.id });
    scope.audit({
      action: "Set-Organization",
      subjectId: organization.id,
      details: { rolesFromToken: { from: organization.rolesFromToken, to: rolesFromToken } },
    });
    return updated;
  });
}

/** The organization a SCIM bearer secret belongs to, or null. */
export async function organizationBySecret(db: Db, secret: string) {
  return db.organization.findUnique({ where: { scimSecretHash: hashScimSecret(secret) } });
}

export async function listOrganizations(db: Db) {
  return db.organization.findMany({
    orderBy: { name: "asc" },
    select: {
      name: true,
      tenantId: true,
      rolesFromToken: true,
      scimSecretHash: true,
      createdAt: true,
      _count: { select: { users: true } },
    },
  });
}

/** Every organization, in a stable order: sweeps and checkpoints go through them one by one. */
export async function organizationIds(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`SELECT id::text FROM "Organization" ORDER BY id`;
  return rows.map((row) => row.id);
}
