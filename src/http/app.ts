import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, maskError, type YogaServerInstance } from "graphql-yoga";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import type { TokenVerifier } from "../auth/token-verifier.ts";
import { cachedActor } from "../domain/actor-cache.ts";
import { type ServiceDeps, serviceContext } from "../domain/context.ts";
import { DomainError, NotFoundError, ValidationError } from "../domain/errors.ts";
import type { EventBus } from "../domain/events.ts";
import { AuthenticationError, actorById, resolveActor } from "../domain/identity.ts";
import { queryLimits } from "../graphql/builder.ts";
import type { GraphQLContext, SubscriptionSlots } from "../graphql/context.ts";
import { useInputGuard } from "../graphql/input-guard.ts";
import { schema } from "../graphql/schema.ts";
import { atTokenExpiry } from "../graphql/token-expiry.ts";
import { type Metrics, metricsRoute } from "../observability/metrics.ts";
import { currentRequestId, requestIdFrom, withRequestId } from "../observability/request-context.ts";
import { scimPath, scimRoute } from "../scim/scim-route.ts";
import { auditExportRoute } from "./audit-export.ts";
import { useBodyLimit } from "./body-limit.ts";
import type { ConsoleHandler } from "./console.ts";
import { createDecisionPages } from "./decision-pages.ts";
import { type DevTokenMinter, graphiqlOptions, renderOfflineGraphiQL } from "./graphiql.ts";
import { useOperationMetrics } from "./graphql-metrics.ts";
import { probeReadiness, type ReadinessChecks, sendJson } from "./health.ts";
import { type QueueDashboardDeps, queueDashboard, queueDashboardPath } from "./queue-dashboard.ts";

export interface AppDeps extends ServiceDeps {
  verifyToken: TokenVerifier;
  /** The process's logger; lines written while a request is handled carry its request id. */
  logger: Logger;
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
  /** This process's metrics; /metrics serves them when `metricsToken` is set. */
  metrics?: Metrics;
  metricsToken?: string;
  /** Bull Board at /admin/queues for administrators (QUEUE_DASHBOARD); absent: not served. */
  queueDashboard?: Pick<QueueDashboardDeps, "queues" | "organization">;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(`Unauthenticated: ${message}`, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } },
  });
}

/** Authenticates a raw bearer token and builds the operation's context. */
export async function buildContext(
  deps: AppDeps,
  authorization: unknown,
  requestId = currentRequestId(),
  overWebSocket = false,
): Promise<GraphQLContext> {
  const token = typeof authorization === "string" ? authorization.match(/^Bearer\s+(\S+)$/i)?.[1] : undefined;
  if (!token) throw unauthenticated("a bearer token is required");
  try {
    const identity = await deps.verifyToken(token);
    // Kept per token until its exp or until anything about the organization's users changes (domain/actor-cache.ts).
    // How the token says the user signed in goes with this token only, never into the cache.
    const actor = {
      ...(await cachedActor(token, identity.expiresAt, () => resolveActor(deps, identity))),
      authentication: identity.authentication,
    };
    return {
      db: deps.db,
      actor,
      tokenExpiresAt: identity.expiresAt,
      overWebSocket,
      effects: deps.effects,
      events: deps.events,
      services: serviceContext(deps, actor.organizationId, actor, requestId),
      metrics: deps.metrics ?? null,
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
  /** The HTTP request (or WebSocket upgrade) the operation came with. */
  req?: IncomingMessage;
}

/** Each HTTP request's and WebSocket upgrade's request id, set before anything handles it. */
const requestIds = new WeakMap<IncomingMessage, string>();

/** Yoga's log lines through the process's logger (its step-by-step debug lines at trace). */
function yogaLogging(logger: Logger) {
  const at =
    (level: "trace" | "info" | "warn" | "error") =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      if (first instanceof Error) logger[level]({ err: first }, rest.map(String).join(" ") || first.message);
      else logger[level](args.map(String).join(" "));
    };
  return { debug: at("trace"), info: at("info"), warn: at("warn"), error: at("error") };
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
    logging: yogaLogging(deps.logger),
    landingPage: false,
    // Bodies are limited by useBodyLimit below, without a stream per request.
    maxRequestBodySize: false,
    // Unexpected errors are masked, never with their stack (whatever NODE_ENV says); a domain
    // error thrown by a query (a filter's malformed ID, say) keeps its code and field.
    maskedErrors: { isDev: false, maskError: domainErrorOrMasked },
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
      useBodyLimit(),
      useInputGuard(),
      ...(deps.metrics ? [useOperationMetrics(deps.metrics)] : []),
      // Production serves the committed schema.graphql, not introspection.
      ...(deps.production
        ? [{ onValidate: ({ addValidationRule }: OnValidate) => addValidationRule(NoSchemaIntrospectionCustomRule) }]
        : []),
    ],
    // HTTP and SSE carry the token in the Authorization header, WebSocket in connection_init.
    context: ({ request, connectionParams, req }) =>
      buildContext(
        deps,
        request?.headers.get("authorization") ?? connectionParams?.authorization ?? connectionParams?.Authorization,
        (req && requestIds.get(req)) ?? currentRequestId(),
        connectionParams !== undefined,
      ),
  });
}

function domainErrorOrMasked(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (!(original instanceof DomainError)) return maskError(error, message, false);
  const field = original instanceof ValidationError || original instanceof NotFoundError ? original.field : undefined;
  return new GraphQLError(original.message, {
    ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}),
    extensions: { code: original.code, ...(field ? { field } : {}) },
  });
}

/**
 * graphql-ws on the GraphQL path of the same server. The token is checked at
 * connect; the socket closes when it expires.
 */
function serveWebSockets(server: Server, yoga: ReturnType<typeof createGraphQL>, deps: AppDeps) {
  const wsServer = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  // One request id per connection, from its upgrade request, answered in the upgrade's headers.
  wsServer.on("headers", (headers, request) => {
    const requestId = requestIdFrom(request.headers["x-request-id"]);
    requestIds.set(request, requestId);
    headers.push(`x-request-id: ${requestId}`);
  });
  const inRequest = <T>(request: IncomingMessage, work: () => T): T => withRequestId(requestIds.get(request), work);
  useServer<WebSocketInitial["connectionParams"]>(
    {
      onConnect: async (ctx) => {
        try {
          const context = await buildContext(
            deps,
            ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization,
            requestIds.get(ctx.extra.request) ?? null,
            true,
          );
          const socket = ctx.extra.socket;
          const cancel = atTokenExpiry(context.tokenExpiresAt, () => socket.close(4401, "token expired"));
          socket.once("close", cancel);
          return true;
        } catch {
          return false;
        }
      },
      execute: (args) =>
        inRequest((args.contextValue as { req: IncomingMessage }).req, () =>
          (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
        ),
      subscribe: (args) =>
        inRequest((args.contextValue as { req: IncomingMessage }).req, () =>
          (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
        ),
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

/** Builds the HTTP app (GraphQL over HTTP, SSE and WebSocket, decision pages, SCIM, health, console); never listens. */
export function createApp(deps: AppDeps): { server: Server; yoga: ReturnType<typeof createGraphQL> } {
  const yoga = createGraphQL(deps);
  const decisionPages = createDecisionPages(deps);
  const dashboard = deps.queueDashboard && queueDashboard({ ...deps, ...deps.queueDashboard });
  const scim = scimRoute(deps);
  const prefixRoute = (method: string | undefined, path: string): [string, Route] | undefined => {
    if (path.startsWith("/decide/")) return ["/decide/:token", decisionPages];
    if (path === scimPath || path.startsWith(`${scimPath}/`)) return [scimPath, scim];
    if (dashboard && (path === queueDashboardPath || path.startsWith(`${queueDashboardPath}/`))) {
      return [queueDashboardPath, dashboard];
    }
    const page = deps.console?.routeFor(method, path);
    return page && ["console", page];
  };
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
    ...(deps.metrics && deps.metricsToken ? { "/metrics": metricsRoute(deps.metrics, deps.metricsToken) } : {}),
    ...deps.routes,
  };
  const server = createServer((req, res) => {
    // Every request gets an id (the caller's x-request-id when acceptable), answered on
    // every response and carried by its log lines and by the jobs, mail and webhooks it causes.
    const requestId = requestIdFrom(req.headers["x-request-id"]);
    requestIds.set(req, requestId);
    res.setHeader("x-request-id", requestId);
    withRequestId(requestId, () => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const prefixed = routes[path] ? undefined : prefixRoute(req.method, path);
      const route = routes[path] ?? prefixed?.[1];
      const started = performance.now();
      res.once("finish", () => {
        // The route's name, never the path: decision links carry their token in it.
        const name = routes[path] ? path : (prefixed?.[0] ?? (path === yoga.graphqlEndpoint ? path : "other"));
        const seconds = (performance.now() - started) / 1000;
        const method = req.method ?? "GET";
        deps.metrics?.httpRequests.inc({ method, route: name, status: res.statusCode });
        deps.metrics?.httpDuration.observe({ method, route: name }, seconds);
        deps.logger.debug({ method, route: name, status: res.statusCode, ms: Math.round(seconds * 1000) }, "request");
      });
      if (route) {
        Promise.resolve(route(req, res)).catch((error: unknown) => {
          deps.logger.error({ err: error }, "request failed");
          if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
          else res.end();
        });
        return;
      }
      yoga(req, res);
    });
  });
  serveWebSockets(server, yoga, deps);
  return { server, yoga };
}
