import { createPublicKey } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { ExportLine } from "../src/domain/audit/audit.service.ts";
import { AuditVerifier, type CheckpointRecord } from "../src/domain/audit/audit-chain.ts";

// `npm run audit:verify -- --public-key <checkpoint key.pem> <export.ndjson>`: checks an
// exported audit trail offline, with nothing but the checkpoint public key: the event
// chain, every checkpoint's signature, the events checkpoints vouch for (a truncation
// below the newest one included) and the executions their digests seal.
const usage = `usage: npm run audit:verify -- --public-key <key.pem> <export.ndjson>

  export.ndjson   GET /audit/export as an admin or auditor
  --public-key    the checkpoint signing key's public half (GraphQL auditSigningKey,
                  or kept from a trusted channel)
Exits 0 when the trail verifies, 1 when it does not, 2 on bad usage.`;

let parsed: ReturnType<
  typeof parseArgs<{ options: { "public-key": { type: "string" }; help: { type: "boolean" } }; allowPositionals: true }>
>;
try {
  parsed = parseArgs({
    options: { "public-key": { type: "string" }, help: { type: "boolean" } },
    allowPositionals: true,
  });
} catch (error) {
  console.error(`${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
const keyFile = parsed.values["public-key"];
const file = parsed.positionals[0];
if (parsed.values.help || !keyFile || !file) {
  console.log(usage);
  process.exit(parsed.values.help ? 0 : 2);
}

const publicKey = createPublicKey(await readFile(keyFile, "utf8"));
const lines = () => createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
// Checkpoints first (the export writes them first; a reordered file is read twice rather than trusted).
const checkpoints: CheckpointRecord[] = [];
for await (const line of lines()) {
  if (!line.trim()) continue;
  const record = JSON.parse(line) as ExportLine;
  if (record.kind === "checkpoint") checkpoints.push(record);
}
const verifier = new AuditVerifier(checkpoints, { publicKey });
for await (const line of lines()) {
  if (!line.trim()) continue;
  const record = JSON.parse(line) as ExportLine;
  if (record.kind === "event") verifier.addEvent(record);
  else if (record.kind === "execution") verifier.addExecution(record);
}
const report = verifier.finish();
console.log(JSON.stringify(report, null, 2));
process.exit(report.ok ? 0 : 1);
