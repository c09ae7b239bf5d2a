import { afterAll } from "vitest";
import { killSpawned } from "../helpers/processes.ts";

// Whatever a test file spawned (APIs, workers, Redis servers, commands) ends with the file,
// even when a test failed before stopping it: nothing outlives it to work on the next file's database.
afterAll(killSpawned);
