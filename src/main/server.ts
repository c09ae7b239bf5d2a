import { subscribe } from "node:diagnostics_channel";
import path from "node:path";
import { projectRoot } from "../config/project-root.ts";
import { loadConfigOrExit } from "./load-config.ts";

// Parsed before anything else is imported, so a bad variable never half-starts the process.
const config = loadConfigOrExit();
const { port, publicUrl } = config.server;

const logger = await (await import("./logger.ts")).createLogger(config.operations);
const { prepareDatabase, identityEdge, auditKeys } = await import("./bootstrap.ts");
const { mintDevTokenFor, signInRoutes } = await import("../http/sign-in.ts");
const { graphiqlDefaultUser, graphiqlTokenSeconds } = await import("../http/graphiql.ts");
const { createApp } = await import("../http/app.ts");
const { createConsole } = await import("../http/console.ts");
const { startJobRuntime } = await import("../jobs/runtime.ts");
const { followActorChanges, followCoverageChanges } = await import("../events/event-bus.ts");
const { devMailPage } = await import("../http/dev-mail.ts");
const { jobRuntimeOptions, redisEventBus, redisLimits } = await import("./services.ts");
const { onShutdownSignal } = await import("./shutdown.ts");
const { createMetrics } = await import("../observability/metrics.ts");
const { jobKinds } = await import("../jobs/queues.ts");
const { unusedPrismaQueries } = await import("../graphql/builder.ts");

if (config.mode !== "production") {
  subscribe(unusedPrismaQueries.name, (message) => logger.warn(message, "a Prisma relation was loaded but not read"));
}
// A broken template stops the start, never a send.
await (await import("../email/render.ts")).compileAllTemplates();
const keys = await auditKeys(config);
const db = await prepareDatabase(config, logger, keys);
const events = redisEventBus(config.redis);
void followCoverageChanges(events.bus);
void followActorChanges(events.bus);
// Kept always (cheap); served at /metrics only to a scraper with METRICS_TOKEN.
const metrics = createMetrics();
// With WORKER=false this process only adds jobs; `npm run worker` processes them.
const { options: jobOptions, mailbox } = jobRuntimeOptions(config, {
  db,
  logger,
  auditKeys: keys,
  events: events.bus,
  metrics,
  runWorkers: config.server.runWorkers,
});
const jobs = await startJobRuntime(jobOptions);
const { verifyToken, devKey } = await identityEdge(config.identity);
const { signIn } = config.identity;
// Built by `npm start` when its sources changed (scripts/build-console.ts), by the image's build stage for production.
const webConsole = createConsole({ dir: path.join(projectRoot, "web/dist"), issuer: signIn.issuer });
if (!webConsole) logger.warn("The console is not built (npm run console:build); serving the API only");
const limits = redisLimits(config, logger);
const { queueDashboard, metricsToken } = config.operations;
const devSignIn = devKey && { db, key: devKey, issuer: config.identity.issuer, audience: config.identity.audience };
const { server } = createApp({
  db,
  logger,
  webhookSettings: jobOptions.webhooks.settings,
  metrics,
  metricsToken: metricsToken ?? undefined,
  queueDashboard: queueDashboard
    ? { queues: jobKinds.map((kind) => jobs.queues.queue(kind)), organization: queueDashboard.organization }
    : undefined,
  verifyToken,
  auditKeys: keys,
  quotas: limits.quotas,
  subscriptionSlots: limits.subscriptionSlots,
  effects: jobs.effects,
  events: events.bus,
  publicUrl,
  corsOrigins: config.server.corsOrigins,
  production: config.mode === "production",
  readinessChecks: jobs.readinessChecks,
  devToken: devSignIn && ((email) => mintDevTokenFor(devSignIn, email, { expiresIn: graphiqlTokenSeconds })),
  console: webConsole,
  routes: {
    ...(mailbox ? { "/dev/mail": devMailPage(mailbox) } : {}),
    ...signInRoutes({ ...signIn, devSignIn: devKey !== null }, devSignIn),
  },
});

server.listen(port, () => {
  if (webConsole) logger.info(`Console at http://localhost:${port}/`);
  logger.info(
    config.mode === "production"
      ? `GraphQL at http://localhost:${port}/graphql`
      : devSignIn
        ? `GraphQL and GraphiQL at http://localhost:${port}/graphql (signed in as ${graphiqlDefaultUser}; ?as=<email> for another demo user)`
        : `GraphQL (with GraphiQL) at http://localhost:${port}/graphql`,
  );
  if (mailbox) logger.info(`Mail is kept, not sent (SMTP_URL is unset): http://localhost:${port}/dev/mail`);
  if (queueDashboard) logger.info(`Queue dashboard (administrators): http://localhost:${port}/admin/queues`);
  if (devKey) logger.info("Get a dev token: npm run token -- --as requester@fabrikam.com");
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
