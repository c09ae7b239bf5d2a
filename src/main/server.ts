import path from "node:path";
import { projectRoot } from "../config/project-root.ts";
import { loadEnvOrExit } from "./load-env.ts";

// Parsed before anything else is imported, so a bad variable never half-starts the process.
const env = loadEnvOrExit();

const { logger } = await import("./logger.ts");
const { prepareDatabase, identityEdge, auditKeys } = await import("./bootstrap.ts");
const { mintDevTokenFor, signInRoutes } = await import("../http/sign-in.ts");
const { graphiqlDefaultUser, graphiqlTokenSeconds } = await import("../http/graphiql.ts");
const { createApp } = await import("../http/app.ts");
const { createConsole } = await import("../http/console.ts");
const { startJobRuntime } = await import("../jobs/runtime.ts");
const { eventEffectHandlers, followCoverageChanges } = await import("../events/event-bus.ts");
const { devMailPage } = await import("../http/dev-mail.ts");
const { mailDelivery, redisEventBus, redisLimits, webhookDelivery } = await import("./services.ts");
const { onShutdownSignal } = await import("./shutdown.ts");
const { createMetrics } = await import("../observability/metrics.ts");
const { jobKinds } = await import("../jobs/queues.ts");

// A broken template stops the start, never a send.
await (await import("../email/render.ts")).compileAllTemplates();
const keys = await auditKeys(env);
const db = await prepareDatabase(env, logger, keys);
const events = redisEventBus(env);
void followCoverageChanges(events.bus);
const { mailbox, delivery } = mailDelivery(env, db);
const webhooks = webhookDelivery(env);
// Kept always (cheap); served at /metrics only to a scraper with METRICS_TOKEN.
const metrics = createMetrics();
// With WORKER=false this process only adds jobs; `npm run worker` processes them.
const jobs = await startJobRuntime({
  db,
  logger,
  redisUrl: env.REDIS_URL,
  queuePrefix: env.QUEUE_PREFIX,
  reconcileIntervalSeconds: env.RECONCILE_INTERVAL_SECONDS,
  checkpointIntervalSeconds: env.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
  auditKeys: keys,
  runWorkers: env.WORKER,
  effectHandlers: [eventEffectHandlers(events.bus)],
  delivery,
  ...webhooks,
  metrics,
});
const { verifyToken, devKey } = await identityEdge(env);
const signInIssuer = env.OIDC_ISSUER ?? (env.JWKS_URL ? env.JWT_ISSUER : null);
// Built by `npm start` when its sources changed (scripts/build-console.ts), by the image's build stage for production.
const webConsole = createConsole({ dir: path.join(projectRoot, "web/dist"), issuer: signInIssuer });
if (!webConsole) logger.warn("The console is not built (npm run console:build); serving the API only");
const limits = redisLimits(env, logger);
const devSignIn = devKey && { db, key: devKey, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE };
const { server } = createApp({
  db,
  logger,
  webhookSettings: webhooks.webhooks.settings,
  metrics,
  metricsToken: env.METRICS_TOKEN,
  queueDashboard: env.QUEUE_DASHBOARD
    ? { queues: jobKinds.map((kind) => jobs.queues.queue(kind)), organization: env.QUEUE_DASHBOARD_ORGANIZATION }
    : undefined,
  verifyToken,
  auditKeys: keys,
  quotas: limits.quotas,
  subscriptionSlots: limits.subscriptionSlots,
  effects: jobs.effects,
  events: events.bus,
  publicUrl: env.PUBLIC_URL,
  corsOrigins: env.CORS_ORIGINS,
  production: env.NODE_ENV === "production",
  readinessChecks: jobs.readinessChecks,
  devToken: devSignIn && ((email) => mintDevTokenFor(devSignIn, email, { expiresIn: graphiqlTokenSeconds })),
  console: webConsole,
  routes: {
    ...(mailbox ? { "/dev/mail": devMailPage(mailbox) } : {}),
    ...signInRoutes(
      {
        issuer: signInIssuer,
        clientId: env.OIDC_CLIENT_ID ?? null,
        scopes: env.OIDC_SCOPES,
        prompt: env.OIDC_PROMPT ?? null,
        devSignIn: devKey !== null,
      },
      devSignIn,
    ),
  },
});

server.listen(env.PORT, () => {
  if (webConsole) logger.info(`Console at http://localhost:${env.PORT}/`);
  logger.info(
    env.NODE_ENV === "production"
      ? `GraphQL at http://localhost:${env.PORT}/graphql`
      : devSignIn
        ? `GraphQL and GraphiQL at http://localhost:${env.PORT}/graphql (signed in as ${graphiqlDefaultUser}; ?as=<email> for another demo user)`
        : `GraphQL (with GraphiQL) at http://localhost:${env.PORT}/graphql`,
  );
  if (mailbox) logger.info(`Mail is kept, not sent (SMTP_URL is unset): http://localhost:${env.PORT}/dev/mail`);
  if (env.QUEUE_DASHBOARD) logger.info(`Queue dashboard (administrators): http://localhost:${env.PORT}/admin/queues`);
  if (!env.JWKS_URL) {
    logger.info("Get a dev token: npm run token -- --as requester@fabrikam.com");
  }
});

onShutdownSignal(logger, async () => {
  // In-flight requests get a few seconds; open subscriptions would otherwise hold the close forever.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    setTimeout(resolve, 5000).unref();
  });
  await jobs.close();
  events.close();
  limits.close();
  await db.$disconnect();
});
