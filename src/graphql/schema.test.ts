import { readFile } from "node:fs/promises";
import path from "node:path";
import { printSchema } from "graphql";
import { expect, it } from "vitest";
import { projectRoot } from "../config/project-root.ts";
import { schema } from "./schema.ts";

it("schema.graphql matches the Pothos schema (run `npm run schema:print` after changing the API)", async () => {
  const committed = await readFile(path.join(projectRoot, "schema.graphql"), "utf8");
  expect(committed).toBe(`${printSchema(schema)}\n`);
});
