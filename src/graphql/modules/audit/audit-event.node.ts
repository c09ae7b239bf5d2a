import { verifyAuditLog } from "../../../domain/audit/audit.service.ts";
import type { AuditReport } from "../../../domain/audit/audit-chain.ts";
import { type AuditFilter, auditFilter, auditOrder } from "../../../domain/audit/audit-filter.ts";
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
    mac: t.exposeString("mac", {
      nullable: true,
      description: "HMAC-SHA256 of the hash with AUDIT_KEY; null for events written before the key",
    }),
  }),
});

const CheckpointSummary = builder
  .objectRef<NonNullable<AuditReport["latestCheckpoint"]>>("AuditCheckpointSummary")
  .implement({
    fields: (t) => ({
      number: t.exposeInt("number"),
      auditSequence: t.exposeInt("auditSequence"),
      issuedAt: t.expose("issuedAt", { type: "DateTime" }),
    }),
  });

const AuditVerification = builder.objectRef<AuditReport>("AuditVerification").implement({
  fields: (t) => ({
    ok: t.exposeBoolean("ok"),
    checked: t.exposeInt("checked", { description: "Events whose link and MAC hold" }),
    firstBrokenSequence: t.exposeInt("firstBrokenSequence", {
      nullable: true,
      description:
        "The first event edited, rewritten without AUDIT_KEY, removed, or missing below the newest checkpoint",
    }),
    truncated: t.exposeBoolean("truncated", {
      description: "The log ends before the event the newest checkpoint vouches for",
    }),
    firstBrokenCheckpoint: t.exposeInt("firstBrokenCheckpoint", {
      nullable: true,
      description: "The first checkpoint whose signature or sealed executions do not match",
    }),
    checkpoints: t.exposeInt("checkpoints"),
    latestCheckpoint: t.field({
      type: CheckpointSummary,
      nullable: true,
      resolve: (report) => report.latestCheckpoint,
    }),
    executionsChecked: t.exposeInt("executionsChecked", {
      description: "Executions sealed by checkpoints and checked",
    }),
    problems: t.exposeStringList("problems"),
  }),
});

builder.prismaObject("AuditCheckpoint", {
  description: "A signed statement of the audit trail at a moment (Ed25519; verify with auditSigningKey)",
  fields: (t) => ({
    number: t.exposeInt("number"),
    issuedAt: t.expose("issuedAt", { type: "DateTime" }),
    auditSequence: t.exposeInt("auditSequence"),
    auditHash: t.exposeString("auditHash"),
    executionsUntil: t.expose("executionsUntil", { type: "DateTime" }),
    executionsCount: t.exposeInt("executionsCount"),
    executionsDigest: t.exposeString("executionsDigest"),
    keyId: t.exposeString("keyId"),
    signature: t.exposeString("signature"),
  }),
});

const AuditEventFilter = builder.inputType("AuditEventFilter", {
  fields: (t) => ({
    actions: t.stringList({ description: 'Cmdlet names, in any case, e.g. "Approve-ElevatedAccessRequest"' }),
    actorId: t.id({ description: "Who acted: the user's global ID or GUID" }),
    subjectId: t.id({ description: "What the event is about: a global ID or the GUID it names" }),
    from: t.field({ type: "DateTime", description: "At or after" }),
    to: t.field({ type: "DateTime", description: "Before" }),
  }),
});

function toFilter(input: typeof AuditEventFilter.$inferInput | null | undefined): AuditFilter | null {
  return input ? { ...input, actorId: input.actorId?.toString(), subjectId: input.subjectId?.toString() } : null;
}

const AuditOrder = builder.enumType("AuditOrder", { values: ["OLDEST_FIRST", "NEWEST_FIRST"] as const });

builder.queryFields((t) => ({
  auditEvents: t.prismaConnection(
    {
      type: "AuditEvent",
      cursor: "id",
      authScopes: { reader: true },
      description: "In chain order (oldest first) unless asked otherwise",
      args: {
        filter: t.arg({ type: AuditEventFilter }),
        order: t.arg({ type: AuditOrder, defaultValue: "OLDEST_FIRST" }),
      },
      totalCount: (_parent, args, ctx) =>
        ctx.db.auditEvent.count({ where: auditFilter(ctx.actor.organizationId, toFilter(args.filter)) }),
      resolve: (query, _root, args, ctx) =>
        ctx.db.auditEvent.findMany({
          ...query,
          where: auditFilter(ctx.actor.organizationId, toFilter(args.filter)),
          orderBy: auditOrder(toFilter(args.filter), args.order === "NEWEST_FIRST" ? "desc" : "asc"),
        }),
    },
    { name: "AuditEventConnection" },
    { name: "AuditEventEdge" },
  ),
  verifyAuditLog: t.field({
    type: AuditVerification,
    authScopes: { reader: true },
    description: "Recomputes the organization's hash chain and names the first broken sequence",
    resolve: (_root, _args, ctx) => verifyAuditLog(ctx.db, ctx.services.auditKeys, ctx.actor.organizationId),
  }),
  auditCheckpoints: t.prismaConnection(
    {
      type: "AuditCheckpoint",
      cursor: "id",
      authScopes: { reader: true },
      description: "Newest first",
      totalCount: (_parent, _args, ctx) =>
        ctx.db.auditCheckpoint.count({ where: { organizationId: ctx.actor.organizationId } }),
      resolve: (query, _root, _args, ctx) =>
        ctx.db.auditCheckpoint.findMany({
          ...query,
          where: { organizationId: ctx.actor.organizationId },
          orderBy: { number: "desc" },
        }),
    },
    { name: "AuditCheckpointConnection" },
    { name: "AuditCheckpointEdge" },
  ),
  auditSigningKey: t.string({
    authScopes: { reader: true },
    description:
      "The public key checkpoints verify with (SPKI PEM). Keep a copy from a trusted channel: a server that was tampered with could show another",
    resolve: (_root, _args, ctx) => ctx.services.auditKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
  }),
}));
