import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { Kind, parse } from "graphql";

// `npm run gql`: sends one GraphQL operation to a running server and prints the answer,
// so any README example runs as written, with no JSON or shell quoting to get right.
const usage = `usage: npm run --silent gql -- [--as <email>] [--url <server>] [--variables <json>] [<operation> | <file>]

Sends one GraphQL operation and prints the answer as JSON. The operation is the
argument, the file it names, or standard input when there is no argument:

  npm run --silent gql -- --as requester@fabrikam.com '{ me { email } }'
  npm run --silent gql -- step.graphql
  npm run --silent gql <<'EOF'
  # as requester@fabrikam.com
  mutation { cancelAccessRequest(input: { requestId: "..." }) { ... on Error { code message } } }
  EOF

Who it runs as: --as <email>, else a "# as <email>" line in the operation (as in the
README's examples), else ELEVATE_TOKEN (a bearer token used as is). --as asks the
server's dev issuer (POST /dev/token) for a token, so it works in development only.
A subscription prints each event as it arrives (server-sent events), until Ctrl-C.

  --as <email>         the demo user to run as
  --url <server>       default ELEVATE_URL, else http://localhost:4000
  --variables <json>   the operation's variables, e.g. '{"id": "..."}'
  --help               this text

Exit codes: 0 answered without GraphQL errors (a typed error such as CONFLICT is
an answer: look at "code"), 1 GraphQL errors or the server failed, 2 bad usage.`;

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

let values: { as?: string; url?: string; variables?: string; help?: boolean };
let positionals: string[];
try {
  ({ values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      as: { type: "string" },
      url: { type: "string" },
      variables: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message}\n\n${usage}`, 2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (positionals.length > 1) fail(`one operation at a time (quote it)\n\n${usage}`, 2);

async function readOperation(argument: string | undefined): Promise<string> {
  if (argument === undefined || argument === "-") {
    if (argument === undefined && process.stdin.isTTY) fail(usage, 2);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  if (/^\s*[{#]|^\s*(query|mutation|subscription|fragment)\b/.test(argument)) return argument;
  try {
    return await readFile(argument, "utf8");
  } catch {
    fail(`${argument}: neither an operation nor a readable file\n\n${usage}`, 2);
  }
}

const query = await readOperation(positionals[0]);
// "# keep ... as <request id>" lines name placeholders; only the operation must have none left.
const placeholder = query
  .split("\n")
  .filter((line) => !line.startsWith("#"))
  .join("\n")
  .match(/<[a-z][a-z ]*>/i)?.[0];
if (placeholder) fail(`replace ${placeholder} with its value from an earlier answer first`, 2);
let document: ReturnType<typeof parse>;
try {
  document = parse(query);
} catch (error) {
  fail(`not GraphQL: ${(error as Error).message}`, 2);
}
let variables: unknown;
try {
  variables = values.variables === undefined ? undefined : JSON.parse(values.variables);
} catch {
  fail('--variables: must be JSON, e.g. \'{"id": "..."}\'', 2);
}

const server = (values.url ?? process.env.ELEVATE_URL ?? "http://localhost:4000").replace(/\/$/, "");
const as = values.as ?? query.match(/^#\s*as\s+(\S+@\S+)\s*$/m)?.[1];

async function bearerToken(): Promise<string | undefined> {
  if (!as) return process.env.ELEVATE_TOKEN;
  const response = await fetch(`${server}/dev/token`, { method: "POST", body: JSON.stringify({ as }) }).catch(
    (error: Error) => fail(`${server}: ${error.cause ?? error.message}; is the server started (npm start)?`, 1),
  );
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string };
  if (!body.access_token) {
    fail(
      `${server}/dev/token: ${body.error ?? `HTTP ${response.status}`} (the dev issuer is off when JWKS_URL is set)`,
      1,
    );
  }
  return body.access_token;
}

const token = await bearerToken();
const subscription = document.definitions.some(
  (definition) => definition.kind === Kind.OPERATION_DEFINITION && definition.operation === "subscription",
);
const response = await fetch(`${server}/graphql`, {
  method: "POST",
  headers: {
    "content-type": "application/json",
    accept: subscription ? "text/event-stream" : "application/graphql-response+json, application/json",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  },
  body: JSON.stringify({ query, variables }),
}).catch((error: Error) => fail(`${server}: ${error.cause ?? error.message}; is the server started (npm start)?`, 1));

function print(text: string): boolean {
  try {
    const answer = JSON.parse(text) as { errors?: unknown[] };
    console.log(JSON.stringify(answer, null, 2));
    return !answer.errors?.length;
  } catch {
    console.log(text);
    return false;
  }
}

if (subscription && response.ok && response.body) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    const events = buffered.split("\n\n");
    buffered = events.pop() ?? "";
    for (const event of events) {
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trim())
        .join("\n");
      if (data && !print(data)) process.exitCode = 1;
    }
  }
} else if (!print(await response.text())) {
  process.exitCode = 1;
}
