import { collect } from "../client.ts";
import { cmdlet, resultSize } from "../cmdlet.ts";
import { exitCodes } from "../errors.ts";
import { graphql } from "../graphql/gql.ts";
import type { Field } from "../output.ts";
import { many, one } from "../output.ts";

const AuditEvents = graphql(`
  query CliAuditEvents($first: Int, $after: String) {
    auditEvents(first: $first, after: $after) {
      edges { node { sequence at actor { email } action subjectId details prevHash hash } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const getAuditLog = cmdlet({
  name: "Get-ElevatedAccessAuditLog",
  synopsis: "Shows the organization's audit log, oldest first, with its hash chain (admins, auditors)",
  examples: ["Get-ElevatedAccessAuditLog -ResultSize 50", "Get-ElevatedAccessAuditLog -Json"],
  parameters: { ResultSize: resultSize("At most this many (default 1000), or Unlimited") },
  // Named like Exchange's admin audit log entries (Search-AdminAuditLog).
  view: {
    properties: [
      "Sequence",
      "RunDate",
      "Caller",
      "CmdletName",
      "ObjectModified",
      "CmdletParameters",
      "PrevHash",
      "Hash",
    ],
    table: ["Sequence", "RunDate", "Caller", "CmdletName", "ObjectModified"],
  },
  async run(values, { api }) {
    const events = await collect(values.ResultSize ?? 1000, async (first, after) => {
      const data = await api.request(AuditEvents, { first, after });
      return data.auditEvents;
    });
    return many(
      events.map((event) => ({
        Sequence: event.sequence,
        RunDate: event.at,
        Caller: event.actor?.email ?? null,
        CmdletName: event.action,
        ObjectModified: event.subjectId ?? null,
        CmdletParameters: event.details as Field,
        PrevHash: event.prevHash,
        Hash: event.hash,
      })),
    );
  },
});

const VerifyAuditLog = graphql(`
  query CliVerifyAuditLog {
    verifyAuditLog { ok checked firstBrokenSequence }
  }
`);

export const testAuditLog = cmdlet({
  name: "Test-ElevatedAccessAuditLog",
  synopsis: "Recomputes the audit log's hash chain; exits 5 and names the first broken entry when it was altered",
  examples: ["Test-ElevatedAccessAuditLog"],
  parameters: {},
  view: { properties: ["Valid", "Checked", "FirstBrokenSequence"], table: ["Valid", "Checked", "FirstBrokenSequence"] },
  async run(_values, { api }) {
    const { verifyAuditLog } = await api.request(VerifyAuditLog);
    return one(
      {
        Valid: verifyAuditLog.ok,
        Checked: verifyAuditLog.checked,
        FirstBrokenSequence: verifyAuditLog.firstBrokenSequence ?? null,
      },
      verifyAuditLog.ok ? exitCodes.ok : exitCodes.testFailed,
    );
  },
});
