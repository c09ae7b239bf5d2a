import { createHash, randomBytes } from "node:crypto";
import { type Db, Prisma, type TokenDecision, type Tx } from "../../db/client.ts";
import { uuidv7 } from "../webhooks/uuid.ts";

/** 256 random bits, base64url: what the decision link carries. Only its hash is stored. */
export function newTokenValue(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

const tokenShape = /^[A-Za-z0-9_-]{43}$/;

/**
 * Mints the Approve and Deny links of one approver for one request. Minting again
 * (a retried mail) replaces the earlier pair, so only the links of the message
 * that went out last work. Tokens die with the request: they expire with it.
 */
export async function mintDecisionTokens(
  db: Db,
  request: { id: string; organizationId: string; expiresAt: Date },
  approverId: string,
): Promise<Record<TokenDecision, string>> {
  const tokens = { APPROVE: newTokenValue(), DENY: newTokenValue() };
  // Both links in one statement and one commit: a request's mail mints a pair per approver.
  const rows = (["APPROVE", "DENY"] as const).map(
    (decision) =>
      Prisma.sql`(${uuidv7()}::uuid, ${request.organizationId}::uuid, ${request.id}::uuid, ${approverId}::uuid,
        ${decision}::"TokenDecision", ${hashToken(tokens[decision])}, ${request.expiresAt}::timestamptz)`,
  );
  await db.$executeRaw`
    INSERT INTO "ApprovalToken" (id, "organizationId", "requestId", "approverId", decision, "tokenHash", "expiresAt")
    VALUES ${Prisma.join(rows)}
    ON CONFLICT ("requestId", "approverId", decision) DO UPDATE
      SET "tokenHash" = EXCLUDED."tokenHash", "expiresAt" = EXCLUDED."expiresAt", "usedAt" = NULL, "createdAt" = now()`;
  return tokens;
}

/** The token behind a link with its request and approver, or null for anything unknown or malformed. */
export async function findDecisionToken(db: Db, value: string) {
  if (!tokenShape.test(value)) return null;
  return db.approvalToken.findUnique({
    where: { tokenHash: hashToken(value) },
    include: {
      approver: { include: { organization: { select: { name: true } } } },
      request: {
        include: {
          requester: true,
          decisions: { include: { approver: true }, orderBy: { decidedAt: "asc" } },
        },
      },
    },
  });
}

/** Marks a token used inside the decision's transaction; false when it was used already. */
export async function consumeDecisionToken(tx: Tx, tokenId: string, now: Date): Promise<boolean> {
  const { count } = await tx.approvalToken.updateMany({
    where: { id: tokenId, usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  return count === 1;
}
