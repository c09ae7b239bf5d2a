import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildSchema,
  Kind,
  LoneAnonymousOperationRule,
  type OperationDefinitionNode,
  parse,
  print,
  specifiedRules,
  validate,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { type ApiProcess, spawnApi } from "../helpers/processes.ts";
import { redisUrl } from "../setup/test-env.ts";

/*
 * Every ```graphql block of README.md runs here, in README order, against a freshly
 * started server over the seeded demo database, so the README cannot drift from the API.
 * The blocks follow a small convention, in comment lines at their top that readers can
 * paste along (GraphiQL and `npm run gql` ignore them, or read `# as`):
 *
 *   # as requester@fabrikam.com                 who runs it (required in every block)
 *   # keep createAccessRequest.id as <request id>
 *                                               an answer's value that later blocks name
 *                                               as <request id> (dots walk into the data:
 *                                               objects by field, lists by index)
 *   # expect ALREADY_DECIDED                    the answer is a typed error with that code
 *   # expect approveAccessRequest.status = APPROVED
 *                                               a value of the answer
 *
 * Without `# expect <CODE>` a block fails on any typed error in its answer (an object
 * with a `code`), and every block fails on GraphQL errors. A placeholder that no earlier
 * block keeps fails too. Every mutation selects `... on Error { code message }`, so a
 * reader who runs it sees why it failed instead of `{}`.
 *
 * A block whose first line starts with `# reference` is a list of operations to pick
 * from, not a step: each of its operations is validated against schema.graphql (with
 * its placeholders filled by a dummy ID) instead of run.
 */

const readmePath = fileURLToPath(new URL("../../README.md", import.meta.url));
const schemaPath = fileURLToPath(new URL("../../schema.graphql", import.meta.url));
const gqlScript = fileURLToPath(new URL("../../scripts/gql.ts", import.meta.url));

interface ReadmeBlock {
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
  text: string;
  reference: boolean;
  as: string | null;
  keeps: { path: string; name: string }[];
  expectCode: string | null;
  expectValues: { path: string; value: string }[];
}

function graphqlBlocks(markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = markdown.split("\n");
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]!.trim() !== "```graphql") continue;
    const start = index;
    const body: string[] = [];
    while (++index < lines.length && lines[index]!.trim() !== "```") body.push(lines[index]!);
    const comments = body.filter((line) => line.startsWith("#")).map((line) => line.slice(1).trim());
    const expected = comments.filter((line) => line.startsWith("expect ")).map((line) => line.slice(7).trim());
    blocks.push({
      line: start + 1,
      text: body.join("\n"),
      reference: body[0]?.startsWith("# reference") ?? false,
      as: comments.find((line) => /^as \S+@\S+$/.test(line))?.slice(3) ?? null,
      keeps: comments.flatMap((line) => {
        const keep = line.match(/^keep (\S+) as (<[^>]+>)$/);
        return keep ? [{ path: keep[1]!, name: keep[2]! }] : [];
      }),
      expectCode: expected.find((line) => /^[A-Z_]+$/.test(line)) ?? null,
      expectValues: expected.flatMap((line) => {
        const match = line.match(/^(\S+) = (.+)$/);
        return match ? [{ path: match[1]!, value: match[2]! }] : [];
      }),
    });
  }
  return blocks;
}

/** The block's operations, placeholders filled with a dummy ID (they stand in string literals). */
function operationsOf(block: ReadmeBlock): OperationDefinitionNode[] {
  const document = parse(block.text.replace(/<[a-z][a-z ]*>/gi, "placeholder"));
  return document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
}

function valueAt(data: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | null)?.[key], data);
}

/** Every typed error (an object with a code and a message) anywhere in the data. */
function typedErrors(value: unknown): { code: string; message: string }[] {
  if (!value || typeof value !== "object") return [];
  if ("code" in value && "message" in value) return [value as { code: string; message: string }];
  return Object.values(value).flatMap(typedErrors);
}

const queuePrefix = uniquePrefix("readme");
const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
let api: ApiProcess;
let blocks: ReadmeBlock[];
const tokens = new Map<string, string>();

beforeAll(async () => {
  blocks = graphqlBlocks(await readFile(readmePath, "utf8"));
  await loadOrCreateDevIssuerKey(keyFile);
  api = await spawnApi({ redisUrl, queuePrefix, devIssuerKeyFile: keyFile });
});

afterAll(async () => {
  await api?.stop();
  await (await jobClient(redisUrl, queuePrefix)).close();
});

/** The dev issuer's token, the way GraphiQL and `npm run gql` get theirs. */
async function tokenFor(email: string): Promise<string> {
  if (!tokens.has(email)) {
    const response = await fetch(`${api.url}/dev/token`, { method: "POST", body: JSON.stringify({ as: email }) });
    const body = (await response.json()) as { access_token?: string; error?: string };
    if (!body.access_token) throw new Error(`no dev token for ${email}: ${body.error}`);
    tokens.set(email, body.access_token);
  }
  return tokens.get(email)!;
}

/** Runs scripts/gql.ts as the README says, the block on standard input. */
function runGqlScript(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", gqlScript], {
    env: { PATH: process.env.PATH, ELEVATE_URL: api.url },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("README.md's GraphQL examples", () => {
  it("each names who runs it, or says it is a reference list", () => {
    expect(blocks.filter((block) => !block.reference).length).toBeGreaterThan(20);
    const unnamed = blocks.filter((block) => !block.as && !block.reference).map((block) => `README.md:${block.line}`);
    expect(unnamed, "blocks without a '# as <email>' or a '# reference' line").toEqual([]);
  });

  it("ask every mutation for its typed errors too, so a failure never prints {}", () => {
    const blind = blocks.flatMap((block) =>
      operationsOf(block)
        .filter(
          (operation) =>
            operation.operation === "mutation" && !/\.\.\. on Error \{\s*code\s+message\s*\}/.test(print(operation)),
        )
        .map((operation) => `README.md:${block.line}: ${print(operation).split("\n")[1]?.trim()}`),
    );
    expect(blind).toEqual([]);
  });

  it("hold reference lists that the schema accepts, operation by operation", async () => {
    const schema = buildSchema(await readFile(schemaPath, "utf8"));
    const rules = specifiedRules.filter((rule) => rule !== LoneAnonymousOperationRule);
    const problems = blocks
      .filter((block) => block.reference)
      .flatMap((block) =>
        operationsOf(block).flatMap((operation) =>
          validate(schema, { kind: Kind.DOCUMENT, definitions: [operation] }, rules).map(
            (error) => `README.md:${block.line}: ${error.message}`,
          ),
        ),
      );
    expect(problems).toEqual([]);
  });

  it("run in order, as written, against a fresh server", { timeout: 120_000 }, async () => {
    const kept = new Map<string, unknown>();
    for (const block of blocks.filter((candidate) => !candidate.reference)) {
      const where = `README.md:${block.line} (as ${block.as})`;
      const query = block.text
        .split("\n")
        .map((line) =>
          line.startsWith("#")
            ? line
            : line.replace(/<[a-z][a-z ]*>/gi, (name) => {
                if (!kept.has(name)) throw new Error(`${where}: no earlier block keeps ${name}`);
                return String(kept.get(name));
              }),
        )
        .join("\n");
      const response = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${await tokenFor(block.as!)}`, "content-type": "application/json" },
        body: JSON.stringify({ query }),
      });
      const answer = (await response.json()) as { data?: unknown; errors?: unknown[] };
      const context = `${where} answered ${JSON.stringify(answer)}`;
      expect(answer.errors, context).toBeUndefined();
      const errors = typedErrors(answer.data).map((error) => error.code);
      expect(errors, context).toEqual(block.expectCode ? [block.expectCode] : []);
      for (const { path: dotted, value } of block.expectValues) {
        expect(String(valueAt(answer.data, dotted)), `${context}: ${dotted}`).toBe(value);
      }
      for (const { path: dotted, name } of block.keeps) {
        const value = valueAt(answer.data, dotted);
        expect(value, `${context}: nothing at ${dotted} for ${name}`).toBeDefined();
        kept.set(name, value);
      }
    }
  });

  it("run through `npm run gql` with the block pasted as is", async () => {
    const block = blocks.find((candidate) => candidate.text.includes("governedTargets"));
    expect(block, "the governedTargets example").toBeDefined();
    const result = await runGqlScript(block!.text);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    const answer = JSON.parse(result.stdout);
    expect(answer.errors).toBeUndefined();
    expect(Array.isArray(answer.data.governedTargets)).toBe(true);
  });
});
