import { tmpdir } from "node:os";
import path from "node:path";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { loadOrCreateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createDb } from "../../src/db/client.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { jobClient, uniquePrefix } from "./jobs.ts";
import { startSmtpServer } from "./mail.ts";
import { freePort, spawnApi } from "./processes.ts";

/**
 * An API process with its jobs in it, mailing a real SMTP server, links pointing at
 * itself: the setup of a test file about whole flows over HTTP. `as` sends a document
 * with a development token for the user (minted once each), `withToken` with any
 * token (one from the identity provider, say). `env` adds to the API's environment.
 */
export async function startMailingApi(name: string, env: Record<string, string> = {}) {
  const queuePrefix = uniquePrefix(name);
  const keyFile = path.join(tmpdir(), `elevate-test-issuer-${queuePrefix}.json`);
  const smtp = await startSmtpServer();
  const db = createDb(workerDatabaseUrl());
  await loadOrCreateDevIssuerKey(keyFile);
  const port = await freePort();
  const api = await spawnApi({
    redisUrl,
    queuePrefix,
    devIssuerKeyFile: keyFile,
    worker: true,
    port,
    env: { SMTP_URL: smtp.url, PUBLIC_URL: `http://127.0.0.1:${port}`, ...env },
  });
  const tokens = new Map<string, string>();
  async function tokenOf(email: string): Promise<string> {
    if (!tokens.has(email)) {
      const minted = await fetch(`${api.url}/dev/token`, { method: "POST", body: JSON.stringify({ as: email }) });
      tokens.set(email, ((await minted.json()) as { access_token: string }).access_token);
    }
    return tokens.get(email)!;
  }
  async function withToken<TResult, TVariables>(
    token: string,
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
  ): Promise<TResult> {
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const answer = (await response.json()) as { data?: TResult; errors?: unknown[] };
    if (!answer.data || answer.errors?.length) throw new Error(`${response.status}: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  }
  return {
    api,
    smtp,
    db,
    tokenOf,
    withToken,
    as: async <TResult, TVariables>(
      email: string,
      document: TypedDocumentNode<TResult, TVariables>,
      variables?: TVariables,
    ) => withToken(await tokenOf(email), document, variables),
    async close() {
      await api.stop();
      await (await jobClient(redisUrl, queuePrefix)).close();
      await smtp.close();
      await db.$disconnect();
    },
  };
}

export type MailingApi = Awaited<ReturnType<typeof startMailingApi>>;
