import { verifyAuditLog } from "../../../domain/audit/audit.service.ts";
import { builder } from "../../builder.ts";

builder.prismaNode("AuditEvent", {
  id: { field: "id" },
  nullable: true,
  authScopes: { reader: true },
  findUnique: (id, ctx) => ({ id, organizationId: ctx.actor.organizationId }),
  fields: (t) => ({
    sequence: t.exposeInt("sequence"),
    at: t.expose("at", { type: "DateTime" }),
    actor: t.relation("actor", { nullable: true }),
    action: t.exposeString("action", { description: 'The cmdlet it stands for, e.g. "Approve-ElevatedAccessRequest"' }),
    subjectId: t.exposeID("subjectId", { nullable: true }),
    details: t.expose("details", { type: "JSON" }),
    prevHash: t.exposeString("prevHash"),
    hash: t.exposeString("hash", { description: "sha256(previous hash || canonical event)" }),
  }),
});

const AuditVerification = builder
  .objectRef<{ ok: boolean; checked: number; firstBrokenSequence: number | null }>("AuditVerification")
  .implement({
    fields: (t) => ({
      ok: t.exposeBoolean("ok"),
      checked: t.exposeInt("checked"),
      firstBrokenSequence: t.exposeInt("firstBrokenSequence", { nullable: true }),
    }),
  });

builder.queryFields((t) => ({
  auditEvents: t.prismaConnection(
    {
      type: "AuditEvent",
      cursor: "id",
      authScopes: { reader: true },
      totalCount: (_parent, _args, ctx) =>
        ctx.db.auditEvent.count({ where: { organizationId: ctx.actor.organizationId } }),
      resolve: (query, _root, _args, ctx) =>
        ctx.db.auditEvent.findMany({
          ...query,
          where: { organizationId: ctx.actor.organizationId },
          orderBy: { sequence: "asc" },
        }),
    },
    { name: "AuditEventConnection" },
    { name: "AuditEventEdge" },
  ),
  verifyAuditLog: t.field({
    type: AuditVerification,
    authScopes: { reader: true },
    description: "Recomputes the organization's hash chain and names the first broken sequence",
    resolve: (_root, _args, ctx) => verifyAuditLog(ctx.db, ctx.actor.organizationId),
  }),
}));
