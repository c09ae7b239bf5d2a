import { afterAll, beforeAll, expect } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { redisUrl, workerDatabaseUrl } from "../setup/test-env.ts";
import { type Fabrikam, type JobClient, jobClient, prepareFabrikam, uniquePrefix } from "./jobs.ts";
import { spawnWorker, type WorkerProcess } from "./processes.ts";

export interface WorkerFile {
  db: Db;
  fabrikam: Fabrikam;
  jobs: JobClient;
}

/**
 * The setup job test files share: the file's database with Fabrikam, a job client and one
 * worker process on a queue prefix of their own. The worker must stop cleanly when the file ends.
 */
export function withWorker(
  name: string,
  options: {
    reconcileIntervalSeconds: number;
    connections?: number;
    /** The worker's environment; a function when it is known only in beforeAll (a server started there). */
    env?: Record<string, string> | (() => Record<string, string>);
  },
): WorkerFile {
  const file = {} as WorkerFile;
  const queuePrefix = uniquePrefix(name);
  let worker: WorkerProcess | undefined;
  beforeAll(async () => {
    file.db = createDb(workerDatabaseUrl(), options.connections ? { max: options.connections } : undefined);
    file.fabrikam = await prepareFabrikam(file.db);
    file.jobs = await jobClient(redisUrl, queuePrefix);
    worker = await spawnWorker({
      redisUrl,
      queuePrefix,
      reconcileIntervalSeconds: options.reconcileIntervalSeconds,
      env: typeof options.env === "function" ? options.env() : options.env,
    });
  });
  afterAll(async () => {
    const exit = await worker?.stop();
    await file.jobs?.close();
    await file.db?.$disconnect();
    expect(exit?.code).toBe(0);
  });
  return file;
}
