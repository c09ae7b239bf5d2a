import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { type Logger, pino } from "pino";
import { generateDevIssuerKey } from "../../src/auth/dev-issuer.ts";
import { createTokenVerifier, type TokenVerifier } from "../../src/auth/token-verifier.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import type { EffectSink, WebhookSettings } from "../../src/domain/context.ts";
import type { EventBus } from "../../src/domain/events.ts";
import { createEventBus } from "../../src/events/event-bus.ts";
import { type AppDeps, createApp } from "../../src/http/app.ts";
import { workerDatabaseUrl } from "../setup/test-env.ts";
import { testAuditKeys } from "./audit-keys.ts";
import { devTokenFor } from "./tokens.ts";
import { testWebhooks } from "./webhooks.ts";

export const issuer = "elevate-test";
export const audience = "elevate-test";

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** The real HTTP app over this test file's database, driven through Yoga's fetch. */
export async function startTestApp(
  options: {
    effects?: EffectSink;
    events?: EventBus;
    publicUrl?: string;
    production?: boolean;
    readinessChecks?: Record<string, () => Promise<unknown>>;
    corsOrigins?: string[];
    /** Default: the dev issuer with a key of this app's own (`key`). */
    verifyToken?: TokenVerifier;
    /** Default: silent. */
    logger?: Logger;
    queueDashboard?: AppDeps["queueDashboard"];
    /** Default: private addresses allowed (test receivers listen on 127.0.0.1). */
    webhookSettings?: WebhookSettings;
    /** Every rule about time reads this (ServiceContext's clock). Default: the system clock. */
    clock?: () => Date;
  } = {},
) {
  const db: Db = createDb(workerDatabaseUrl());
  const key = await generateDevIssuerKey();
  const verifyToken = options.verifyToken ?? createTokenVerifier({ issuer, audience, devPublicKey: key.publicKey });
  const effects = options.effects ?? { dispatch: async () => {} };
  const events = options.events ?? createEventBus();
  const app = createApp({
    db,
    logger: options.logger ?? pino({ level: "silent" }),
    webhookSettings: options.webhookSettings ?? testWebhooks.settings,
    queueDashboard: options.queueDashboard,
    auditKeys: testAuditKeys,
    verifyToken,
    effects,
    events,
    publicUrl: options.publicUrl ?? "http://localhost",
    corsOrigins: options.corsOrigins ?? [],
    production: options.production ?? false,
    readinessChecks: options.readinessChecks,
    clock: options.clock,
  });

  async function tokenFor(email: string, expiresIn = 3600): Promise<string> {
    return devTokenFor(db, key, email, { issuer, audience, expiresIn });
  }

  async function request<TResult, TVariables>(
    token: string | null,
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
  ): Promise<GraphQLResponse<TResult>> {
    const response = await app.yoga.fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: print(document), variables }),
    });
    return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<TResult>, "status">) };
  }

  /** Runs an operation as a seeded user; fails the test on GraphQL errors. */
  async function as<TResult, TVariables>(
    email: string,
    document: TypedDocumentNode<TResult, TVariables>,
    variables?: TVariables,
  ): Promise<TResult> {
    const result = await request(await tokenFor(email), document, variables);
    if (result.errors?.length || !result.data) {
      throw new Error(`GraphQL errors as ${email}: ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }

  return { db, app, key, tokenFor, request, as, close: () => db.$disconnect() };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;
