import type { IncomingMessage, ServerResponse } from "node:http";
import { GraphQLError } from "graphql";
import { isReader } from "../domain/access.ts";
import { exportAuditTrail } from "../domain/audit/audit.service.ts";
import type { GraphQLContext } from "../graphql/context.ts";
import { sendJson } from "./health.ts";

/**
 * GET /audit/export: the caller's organization's audit trail as NDJSON (admins and
 * auditors), for `npm run audit:verify` with the checkpoint public key alone.
 */
export function auditExportRoute(authenticate: (authorization: unknown) => Promise<GraphQLContext>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "GET") return sendJson(res, 405, { error: "GET only" });
    let ctx: GraphQLContext;
    try {
      ctx = await authenticate(req.headers.authorization);
    } catch (error) {
      if (error instanceof GraphQLError) return sendJson(res, 401, { error: error.message });
      throw error;
    }
    if (!isReader(ctx.actor))
      return sendJson(res, 403, { error: "only administrators and auditors export the audit trail" });
    res.writeHead(200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "cache-control": "no-store",
      "content-disposition": `attachment; filename="elevate-audit-${ctx.actor.organizationName}.ndjson"`,
    });
    for await (const line of exportAuditTrail(ctx.db, ctx.actor.organizationId)) {
      if (!res.write(`${JSON.stringify(line)}\n`)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  };
}
