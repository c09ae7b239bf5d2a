import { ConfigError, env as loadEnv } from "../config/env.ts";

let env: ReturnType<typeof loadEnv>;
try {
  env = loadEnv();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const { logger } = await import("./logger.ts");
const { prepareDatabase, tokenVerifier } = await import("./bootstrap.ts");
const { createApp } = await import("../http/app.ts");

const db = await prepareDatabase(env, logger);
const { server } = createApp({
  db,
  verifyToken: await tokenVerifier(env),
  effects: { dispatch: async () => {} },
  production: env.NODE_ENV === "production",
});

server.listen(env.PORT, () => {
  logger.info(`GraphQL (with GraphiQL) at http://localhost:${env.PORT}/graphql`);
  if (!env.JWKS_URL) {
    logger.info("Get a dev token: npm run token -- --as requester@fabrikam.com");
  }
});

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, "shutting down");
  server.close();
  await db.$disconnect();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
