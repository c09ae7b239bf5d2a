import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobKinds, jobTable } from "../../src/jobs/queues.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { type JobClient, jobClient, uniquePrefix } from "../helpers/jobs.ts";
import { redisUrl } from "../setup/test-env.ts";

// Bull Board on the API's own server, as QUEUE_DASHBOARD=true with
// QUEUE_DASHBOARD_ORGANIZATION=Fabrikam mounts it.

let t: TestApp;
let jobs: JobClient;
let base: string;
let front: Server;

beforeAll(async () => {
  jobs = await jobClient(redisUrl, uniquePrefix("dashboard"));
  // The app's public URL needs its port first: bind port 0 (no race for a free port), then create it.
  front = createServer();
  front.listen(0, "127.0.0.1");
  await once(front, "listening");
  base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  t = await startTestApp({
    publicUrl: base,
    queueDashboard: { queues: jobKinds.map((kind) => jobs.queues.queue(kind)), organization: "Fabrikam" },
  });
  front.on("request", (req, res) => t.app.server.emit("request", req, res));
});

afterAll(async () => {
  front?.closeAllConnections();
  await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
  await jobs?.close();
  await t?.close();
});

const bearer = async (email: string) => ({ authorization: `Bearer ${await t.tokenFor(email)}` });

async function signIn(email: string) {
  return fetch(`${base}/admin/queues/session`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ token: await t.tokenFor(email) }).toString(),
  });
}

describe("the queue dashboard", () => {
  it("sends a browser without a session to sign in, and answers its API only to administrators", async () => {
    const page = await fetch(`${base}/admin/queues/`, { redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/admin/queues/session");
    expect((await fetch(`${base}/admin/queues/api/queues`)).status).toBe(401);
    expect(
      (await fetch(`${base}/admin/queues/api/queues`, { headers: await bearer("requester@fabrikam.com") })).status,
    ).toBe(403);
    expect(
      (await fetch(`${base}/admin/queues/api/queues`, { headers: await bearer("auditor@fabrikam.com") })).status,
    ).toBe(403);
    // An administrator of another organization is no operator of this deployment.
    expect(
      (await fetch(`${base}/admin/queues/api/queues`, { headers: await bearer("admin@contoso.com") })).status,
    ).toBe(403);
    const answer = await fetch(`${base}/admin/queues/api/queues`, { headers: await bearer("admin@fabrikam.com") });
    expect(answer.status).toBe(200);
    const { queues } = (await answer.json()) as { queues: { name: string }[] };
    // Every queue of the job table, and nothing else.
    expect(queues.map((queue) => queue.name).sort()).toEqual(jobKinds.map((kind) => jobTable[kind].queue).sort());
    expect(queues.map((queue) => queue.name)).toContain("request-expiry");
  });

  it("opens in a browser after an administrator's token is exchanged for a short, strict session cookie", async () => {
    const refused = await signIn("requester@fabrikam.com");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("set-cookie")).toBeNull();

    const signedIn = await signIn("admin@fabrikam.com");
    expect(signedIn.status).toBe(303);
    const setCookie = signedIn.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^elevate_queues=[^;]+; Path=\/admin\/queues; Max-Age=900; HttpOnly; SameSite=Strict$/);
    const cookie = setCookie.split(";")[0]!;

    const page = await fetch(`${base}/admin/queues/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/"');
    expect(html).toContain("<title>Elevate queues</title>");
    const script = html.match(/src="(static\/js\/main[^"]+)"/)?.[1];
    expect((await fetch(`${base}/admin/queues/${script}`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { cookie } })).status).toBe(200);

    const [value, mac] = cookie.split(".");
    const forged = `${value}.${mac!.slice(0, -2)}AA`;
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { cookie: forged } })).status).toBe(401);
    const crossSite = await fetch(`${base}/admin/queues/api/queues/pause`, {
      method: "PUT",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    expect((await fetch(`${base}/admin/queues/static/../../../package.json`, { headers: { cookie } })).status).not.toBe(
      200,
    );
  });
});
