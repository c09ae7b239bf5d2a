import { type Config, ConfigError, parseConfig } from "../config/env.ts";

/** The process's configuration from its environment, or exit with one message listing every bad variable. */
export function loadConfigOrExit(): Config {
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
