import { randomUUID } from "node:crypto";
import type { PrincipalKind, UserRole } from "../src/db/client.ts";
import type { ServiceDeps } from "../src/domain/context.ts";
import { registerOrganization } from "../src/domain/organizations.service.ts";

interface DemoUser {
  email: string;
  displayName: string;
  kind?: PrincipalKind;
  roles?: UserRole[];
}

// The names are fixed: the README, the acceptance suite and the tests use them.
export const demoOrganizations: {
  name: string;
  users: DemoUser[];
  approverGroup?: { name: string; email: string; members: string[] };
}[] = [
  {
    name: "Fabrikam",
    users: [
      { email: "admin@fabrikam.com", displayName: "Fabrikam Admin", roles: ["ADMIN"] },
      { email: "approver1@fabrikam.com", displayName: "Approver One" },
      { email: "approver2@fabrikam.com", displayName: "Approver Two" },
      { email: "requester@fabrikam.com", displayName: "Regan Requester" },
      { email: "auditor@fabrikam.com", displayName: "Audrey Auditor", roles: ["AUDITOR"] },
      { email: "guest@partner.example", displayName: "Partner Guest", kind: "GUEST" },
      { email: "enforcer@fabrikam.com", displayName: "Exchange Enforcer", kind: "SERVICE", roles: ["ENFORCER"] },
      { email: "sys1@fabrikam.com", displayName: "System Account 1", kind: "SERVICE" },
    ],
    approverGroup: {
      name: "PAM Approvers",
      email: "pamapprovers@fabrikam.com",
      members: ["approver1@fabrikam.com", "approver2@fabrikam.com"],
    },
  },
  {
    name: "Contoso",
    users: [
      { email: "admin@contoso.com", displayName: "Contoso Admin", roles: ["ADMIN"] },
      { email: "requester@contoso.com", displayName: "Contoso Requester" },
    ],
  },
];

/**
 * Seeds the demo organizations when the database has none; returns whether it did.
 * Each is registered as the operator registers one (scripts/organizations.ts), with
 * its first admin; the other demo users and the approver group are demo data. The
 * demo stands in for an identity provider's tenant: a tenant ID, and a subject per user.
 */
export async function seedDemo(deps: ServiceDeps): Promise<boolean> {
  return deps.db.$transaction(
    async (tx) => {
      // One seeder wins when several processes start on an empty database at once.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('elevate:seed'))`;
      if ((await tx.organization.count()) > 0) return false;
      for (const demo of demoOrganizations) {
        const [admin, ...others] = demo.users;
        const organization = await registerOrganization(deps, {
          name: demo.name,
          tenantId: randomUUID(),
          admins: [{ email: admin!.email, displayName: admin!.displayName, subject: randomUUID() }],
        });
        await deps.db.user.createMany({
          data: others.map((user) => ({
            organizationId: organization.id,
            subject: randomUUID(),
            kind: "MEMBER",
            roles: [],
            ...user,
          })),
        });
        if (demo.approverGroup) {
          const members = await deps.db.user.findMany({
            where: { organizationId: organization.id, email: { in: demo.approverGroup.members } },
          });
          await deps.db.approverGroup.create({
            data: {
              organizationId: organization.id,
              name: demo.approverGroup.name,
              email: demo.approverGroup.email,
              description: "Approvers for privileged access requests",
              members: { create: members.map((user) => ({ userId: user.id, organizationId: organization.id })) },
            },
          });
        }
      }
      return true;
    },
    { timeout: 60_000 },
  );
}
