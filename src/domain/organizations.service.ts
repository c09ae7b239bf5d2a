import type { Db, Tx } from "../db/client.ts";
import { installExchangeCatalog } from "./catalog/catalog.service.ts";

/** A new tenant: its control settings (off, with the product defaults) and its catalog. */
export async function createOrganization(
  tx: Tx,
  { name, tenantId }: { name: string; tenantId: string },
): Promise<{ id: string; name: string; tenantId: string }> {
  const organization = await tx.organization.create({ data: { name, tenantId, control: { create: {} } } });
  await installExchangeCatalog(tx, organization.id);
  return organization;
}

/** Every organization, in a stable order: sweeps and checkpoints go through them one by one. */
export async function organizationIds(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`SELECT id::text FROM "Organization" ORDER BY id`;
  return rows.map((row) => row.id);
}
