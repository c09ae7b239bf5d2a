import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type YogaServerInstance } from "graphql-yoga";
import { WebSocketServer } from "ws";
import type { TokenVerifier } from "../auth/token-verifier.ts";
import { type ServiceDeps, serviceContext } from "../domain/context.ts";
import type { EventBus } from "../domain/events.ts";
import { AuthenticationError, actorById, resolveActor } from "../domain/identity.ts";
import { queryLimits } from "../graphql/builder.ts";
import type { GraphQLContext, SubscriptionSlots } from "../graphql/context.ts";
import { useInputGuard } from "../graphql/input-guard.ts";
import { schema } from "../graphql/schema.ts";
import { atTokenExpiry } from "../graphql/token-expiry.ts";
import { auditExportRoute } from "./audit-export.ts";
import type { ConsoleHandler } from "./console.ts";
import { createDecisionPages } from "./decision-pages.ts";
import { type DevTokenMinter, graphiqlOptions, renderOfflineGraphiQL } from "./graphiql.ts";
import { probeReadiness, type ReadinessChecks, sendJson } from "./health.ts";

export interface AppDeps extends ServiceDeps {
  verifyToken: TokenVerifier;
  events: EventBus;
  /** Base of the links the server hands out (decision pages check form posts against it). */
  publicUrl: string;
  /** Default: no limit (tests of other rules). */
  subscriptionSlots?: SubscriptionSlots;
  /** Origins other than our own that browsers may call the API from (CORS_ORIGINS). */
  corsOrigins: string[];
  production: boolean;
  /** Extra readiness probes (Redis, for example); the database is always probed. */
  readinessChecks?: ReadinessChecks;
  /** The dev issuer, when it is on: GraphiQL starts with a token for a demo user. */
  devToken?: DevTokenMinter | null;
  /** Extra routes by exact path (the dev mailbox, for example). */
  routes?: Record<string, Route>;
  /** The web console: GET and HEAD outside the API's paths. */
  console?: ConsoleHandler | null;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(`Unauthenticated: ${message}`, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });
}

/** Authenticates a raw bearer token and builds the operation's context. */
export async function buildContext(deps: AppDeps, authorization: unknown): Promise<GraphQLContext> {
  const token = typeof authorization === "string" ? authorization.match(/^Bearer\s+(\S+)$/i)?.[1] : undefined;
  if (!token) throw unauthenticated("a bearer token is required");
  try {
    const identity = await deps.verifyToken(token);
    const actor = await resolveActor(deps, identity);
    return {
      db: deps.db,
      actor,
      tokenExpiresAt: identity.expiresAt,
      effects: deps.effects,
      events: deps.events,
      services: serviceContext(deps, actor.organizationId, actor),
      reloadActor: () => actorById(deps.db, actor.organizationId, actor.id),
      subscriptionSlots: deps.subscriptionSlots ?? unlimitedSlots,
    };
  } catch (error) {
    if (error instanceof AuthenticationError) throw unauthenticated(error.message);
    throw error;
  }
}

const unlimitedSlots: SubscriptionSlots = { acquire: async () => async () => {} };

type OnValidate = { addValidationRule: (rule: ValidationRule) => void };

interface WebSocketInitial {
  connectionParams?: { authorization?: unknown; Authorization?: unknown };
}

export function createGraphQL(deps: AppDeps): YogaServerInstance<WebSocketInitial, GraphQLContext> {
  return createYoga<WebSocketInitial, GraphQLContext>({
    schema,
    graphqlEndpoint: "/graphql",
    // No CORS headers unless the origin is on CORS_ORIGINS: browsers then keep other sites out.
    cors: (request) => {
      const origin = request.headers.get("origin");
      return origin && deps.corsOrigins.includes(origin)
        ? { origin, credentials: true, allowedHeaders: ["authorization", "content-type"], methods: ["GET", "POST"] }
        : false;
    },
    graphiql: !deps.production && graphiqlOptions(deps.devToken ?? null),
    renderGraphiQL: renderOfflineGraphiQL,
    landingPage: false,
    maskedErrors: true,
    plugins: [
      // Query abuse before execution: depth, aliases (an alias-batched brute force), tokens,
      // directives; no field suggestions. The cost, which needs the variables, is the
      // complexity plugin's (graphql/builder.ts).
      EnvelopArmorPlugin({
        maxDepth: { n: queryLimits.depth },
        maxAliases: { n: 15 },
        maxTokens: { n: 3000 },
        maxDirectives: { n: 20 },
        costLimit: { enabled: false },
      }),
      useInputGuard(),
      // Production serves the committed schema.graphql, not introspection.
      ...(deps.production
        ? [{ onValidate: ({ addValidationRule }: OnValidate) => addValidationRule(NoSchemaIntrospectionCustomRule) }]
        : []),
    ],
    // HTTP and SSE carry the token in the Authorization header, WebSocket in connection_init.
    context: ({ request, connectionParams }) =>
      buildContext(
        deps,
        request?.headers.get("authorization") ?? connectionParams?.authorization ?? connectionParams?.Authorization,
      ),
  });
}

/**
 * graphql-ws on the GraphQL path of the same server. The token is checked at
 * connect; the socket closes when it expires.
 */
function serveWebSockets(server: Server, yoga: ReturnType<typeof createGraphQL>, deps: AppDeps) {
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  useServer<WebSocketInitial["connectionParams"]>(
    {
      onConnect: async (ctx) => {
        try {
          const context = await buildContext(
            deps,
            ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization,
          );
          const socket = ctx.extra.socket;
          const cancel = atTokenExpiry(context.tokenExpiresAt, () => socket.close(4401, "token expired"));
          socket.once("close", cancel);
          return true;
        } catch {
          return false;
        }
      },
      execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams,
        });
        // A refused operation is answered with its errors; only this subscription ends, not the socket.
        try {
          const args = {
            schema,
            operationName: params.operationName,
            document: parse(params.query),
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
          const errors = validate(args.schema, args.document);
          return errors.length ? errors : args;
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
    },
    wsServer,
  );
  return wsServer;
}

/** Builds the HTTP app (GraphQL over HTTP, SSE and WebSocket, decision pages, health, console); never listens. */
export function createApp(deps: AppDeps): { server: Server; yoga: ReturnType<typeof createGraphQL> } {
  const yoga = createGraphQL(deps);
  const decisionPages = createDecisionPages(deps);
  const routes: Record<string, Route> = {
    "/healthz": (_req, res) => sendJson(res, 200, { status: "ok" }),
    "/audit/export": auditExportRoute((authorization) => buildContext(deps, authorization)),
    "/readyz": async (_req, res) => {
      const { ready, body } = await probeReadiness({
        database: () => deps.db.$queryRaw`SELECT 1`,
        ...deps.readinessChecks,
      });
      sendJson(res, ready ? 200 : 503, body);
    },
    ...deps.routes,
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route =
      routes[path] ??
      (path.startsWith("/decide/") ? decisionPages : undefined) ??
      deps.console?.routeFor(req.method, path);
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
  serveWebSockets(server, yoga, deps);
  return { server, yoga };
}
