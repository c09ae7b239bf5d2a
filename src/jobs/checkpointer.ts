import type { Logger } from "pino";
import { exclusively } from "../db/advisory-lock.ts";
import type { Db } from "../db/client.ts";
import type { AuditKeys } from "../domain/audit/audit-keys.ts";
import { issueCheckpoint } from "../domain/audit/checkpoints.service.ts";
import { organizationIds } from "../domain/organizations.service.ts";
import { Periodic } from "./periodic.ts";

/** Longest a run may hold the checkpointer lock. */
const maxRunMillis = 10 * 60_000;

/**
 * Signs a checkpoint of every organization whose audit trail moved, at start and
 * then every interval. One worker at a time issues them (an advisory lock); a missed
 * run only widens the window a database superuser could change unnoticed.
 */
export function startCheckpointer(options: {
  db: Db;
  auditKeys: AuditKeys;
  logger: Logger;
  intervalSeconds: number;
}): Periodic {
  const { db, auditKeys, logger } = options;
  const periodic = new Periodic(
    "checkpointer",
    options.intervalSeconds,
    async () => {
      const outcome = await exclusively(db, "checkpointer", maxRunMillis, async () => {
        const issued: Record<string, number> = {};
        for (const organizationId of await organizationIds(db)) {
          if (periodic.stopping) break;
          const number = await issueCheckpoint(db, auditKeys, organizationId, new Date());
          if (number !== null) issued[organizationId] = number;
        }
        return issued;
      });
      if (!outcome.skipped && Object.keys(outcome.value).length > 0) {
        logger.info({ checkpoints: outcome.value }, "audit checkpoints signed");
      }
    },
    logger,
  );
  periodic.start();
  return periodic;
}
