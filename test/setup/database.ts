import { createDatabase, dropDatabase } from "../../src/db/database.ts";
import { serverUrl, templateDatabase, workerDatabase, workerDatabaseUrl } from "./test-env.ts";

// Each test file starts from a fresh clone of the migrated, seeded template.
await dropDatabase(serverUrl, workerDatabase());
await createDatabase(serverUrl, workerDatabase(), templateDatabase);
process.env.DATABASE_URL = workerDatabaseUrl();
