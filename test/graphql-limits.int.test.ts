import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.ts";

let dev: TestApp;
let production: TestApp;
beforeAll(async () => {
  dev = await startTestApp();
  production = await startTestApp({ production: true });
});
afterAll(async () => {
  await dev.close();
  await production.close();
});

async function raw(t: TestApp, query: string) {
  return t.request(await t.tokenFor("requester@fabrikam.com"), parse(query));
}

describe("GraphQL abuse", () => {
  it("refuses queries nested too deep", async () => {
    const nest = (levels: number): string =>
      levels === 0 ? "id" : `authorization { request { ${nest(levels - 1)} } }`;
    const deep = `{ accessRequests(first: 1) { edges { node { ${nest(5)} } } } }`;
    const result = await raw(dev, deep);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/depth/i);
  });

  it("refuses alias-batched brute force: more than 15 aliases in one operation", async () => {
    const aliases = Array.from(
      { length: 50 },
      (_, index) => `a${index}: approveAccessRequest(input: { requestId: "guess-${index}" }) { __typename }`,
    ).join("\n");
    const result = await raw(dev, `mutation { ${aliases} }`);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/aliases/i);
  });

  it("suggests no field names", async () => {
    const result = await raw(dev, "{ mee { email } }");
    expect(result.errors?.[0]?.message).toMatch(/Cannot query field "mee"/);
    expect(result.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it("answers introspection in development and refuses it in production", async () => {
    const introspection = "{ __schema { queryType { name } } }";
    expect((await raw(dev, introspection)).data).toEqual({ __schema: { queryType: { name: "Query" } } });
    const refused = await raw(production, introspection);
    expect(refused.data).toBeUndefined();
    expect(refused.errors?.[0]?.message).toMatch(/introspection/i);
  });
});
