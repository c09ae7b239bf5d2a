import { readFile } from "node:fs/promises";
import path from "node:path";
import { buildSchema, findBreakingChanges, type GraphQLNamedType, parse, printType, visit } from "graphql";
import { expect, it } from "vitest";
import { projectRoot } from "../config/project-root.ts";
import { schema } from "./schema.ts";

/**
 * The contract names types it leaves open (result unions, connections); take
 * those from our schema so the contract can be built and compared as a whole.
 */
function completeContract(sdl: string): string {
  const parts = [sdl];
  const defined = new Set<string>(["String", "Int", "Float", "Boolean", "ID"]);
  const wanted: string[] = [];
  const collect = (source: string) => {
    const document = parse(source);
    for (const definition of document.definitions) {
      if ("name" in definition && definition.name) {
        defined.add(definition.name.value);
      }
    }
    visit(document, { NamedType: (node) => void wanted.push(node.name.value) });
  };
  collect(sdl);
  while (wanted.length) {
    const name = wanted.pop()!;
    if (defined.has(name)) continue;
    const type = schema.getType(name) as GraphQLNamedType | undefined;
    if (!type) throw new Error(`the contract uses ${name}, which the schema lacks`);
    const printed = printType(type);
    parts.push(printed);
    collect(printed);
  }
  return parts.join("\n\n");
}

// test/fixtures/api-contract.graphql is a copy of the fixed API contract that
// frontends, the CLI and integrators are written against.
it("serves every operation, type, field and enum value of the API contract", async () => {
  const sdl = await readFile(path.join(projectRoot, "test/fixtures/api-contract.graphql"), "utf8");
  const contract = buildSchema(completeContract(sdl));
  const breaking = findBreakingChanges(contract, schema).map((change) => `${change.type}: ${change.description}`);
  expect(breaking).toEqual([]);
});
