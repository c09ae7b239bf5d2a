import { type DevIssuerKey, type MintOptions, mintDevToken } from "../../src/auth/dev-issuer.ts";
import type { Db } from "../../src/db/client.ts";

/** A dev-issuer token for a seeded user, with the tenant and subject the database holds for them. */
export async function devTokenFor(
  db: Db,
  key: DevIssuerKey,
  email: string,
  options: { issuer: string; audience: string; expiresIn?: number } & Partial<MintOptions>,
): Promise<string> {
  const user = await db.user.findFirstOrThrow({ where: { email }, include: { organization: true } });
  if (!user.subject) throw new Error(`${email} has no subject`);
  return mintDevToken(key, {
    tenantId: user.organization.tenantId,
    subject: user.subject,
    email: user.email,
    kind: user.kind,
    expiresIn: 3600,
    ...options,
  });
}
