import { writeFile } from "node:fs/promises";
import path from "node:path";
import { printSchema } from "graphql";
import { projectRoot } from "../src/config/project-root.ts";
import { schema } from "../src/graphql/schema.ts";

// `npm run schema:print`: writes schema.graphql, the committed picture of the API
// that codegen and reviewers read; a test fails when it is stale.
await writeFile(path.join(projectRoot, "schema.graphql"), `${printSchema(schema)}\n`);
