import { ConfigError, type Env, env } from "../config/env.ts";

/** The process's configuration, or exit with one message listing every bad variable. */
export function loadEnvOrExit(): Env {
  try {
    return env();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
