import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { GraphQLError } from "graphql";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import type { Db } from "../db/client.ts";
import type { EffectSink } from "../domain/context.ts";
import { AuthenticationError, resolveActor, type TokenVerifier } from "../domain/identity.ts";
import type { GraphQLContext } from "../graphql/context.ts";
import { schema } from "../graphql/schema.ts";

export interface AppDeps {
  db: Db;
  verifyToken: TokenVerifier;
  effects: EffectSink;
  production: boolean;
  /** Extra readiness probes (Redis, for example); the database is always probed. */
  readinessChecks?: Record<string, () => Promise<unknown>>;
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(`Unauthenticated: ${message}`, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });
}

/** Authenticates a raw bearer token and builds the operation's context. */
export async function buildContext(deps: AppDeps, authorization: string | null | undefined): Promise<GraphQLContext> {
  const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) throw unauthenticated("a bearer token is required");
  try {
    const claims = await deps.verifyToken(token);
    const actor = await resolveActor(deps.db, claims);
    return {
      db: deps.db,
      actor,
      tokenExpiresAt: claims.expiresAt,
      effects: deps.effects,
      services: { db: deps.db, organizationId: actor.organizationId, actor, effects: deps.effects },
    };
  } catch (error) {
    if (error instanceof AuthenticationError) throw unauthenticated(error.message);
    throw error;
  }
}

export function createGraphQL(deps: AppDeps): YogaServerInstance<Record<string, unknown>, GraphQLContext> {
  return createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    graphiql: !deps.production,
    landingPage: false,
    maskedErrors: true,
    context: ({ request }) => buildContext(deps, request.headers.get("authorization")),
  });
}

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** Builds the HTTP app (GraphQL, health); never listens, so tests and main share it. */
export function createApp(deps: AppDeps): { server: Server; yoga: ReturnType<typeof createGraphQL> } {
  const yoga = createGraphQL(deps);
  const routes: Record<string, Route> = {
    "/healthz": (_req, res) => sendJson(res, 200, { status: "ok" }),
    "/readyz": async (_req, res) => {
      const checks = { database: () => deps.db.$queryRaw`SELECT 1`, ...deps.readinessChecks };
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => [
          name,
          await check().then(
            () => "ok",
            () => "failing",
          ),
        ]),
      );
      const ready = results.every(([, state]) => state === "ok");
      sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", checks: Object.fromEntries(results) });
    },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes[path];
    if (route) {
      Promise.resolve(route(req, res)).catch((error: unknown) => {
        console.error(error);
        if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
        else res.end();
      });
      return;
    }
    yoga(req, res);
  });
  return { server, yoga };
}
