import { describe, expect, it } from "vitest";
import { cachedActor, invalidateActors, invalidateAllActors } from "./actor-cache.ts";
import type { Actor } from "./context.ts";

const actor = (organizationId: string, email: string): Actor => ({
  id: email,
  organizationId,
  organizationName: organizationId,
  email,
  displayName: email,
  kind: "MEMBER",
  roles: [],
  approver: false,
});
const later = new Date(Date.now() + 3_600_000);

describe("cached actors", () => {
  it("answers a token from memory until its organization changes", async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      return actor("org-a", "ada@a.example");
    };
    await cachedActor("token-1", later, load);
    await cachedActor("token-1", later, load);
    expect(loads).toBe(1);
    invalidateActors("org-b");
    await cachedActor("token-1", later, load);
    expect(loads).toBe(1);
    invalidateActors("org-a");
    await cachedActor("token-1", later, load);
    expect(loads).toBe(2);
  });

  it("never keeps what was read before an invalidation that arrived while reading", async () => {
    let release!: () => void;
    const slow = () =>
      new Promise<Actor>((resolve) => {
        release = () => resolve(actor("org-c", "stale@c.example"));
      });
    const reading = cachedActor("token-2", later, slow);
    invalidateActors("org-c");
    release();
    expect((await reading).email).toBe("stale@c.example");
    const fresh = await cachedActor("token-2", later, async () => actor("org-c", "fresh@c.example"));
    expect(fresh.email).toBe("fresh@c.example");
  });

  it("keeps nothing past the token's expiry, nor while invalidations cannot arrive", async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      return actor("org-d", "dee@d.example");
    };
    const soon = new Date(Date.now() + 1000);
    await cachedActor("token-3", soon, load);
    await cachedActor("token-3", soon, load, soon.getTime() + 1);
    expect(loads).toBe(2);

    invalidateAllActors(false);
    await cachedActor("token-4", later, load);
    await cachedActor("token-4", later, load);
    expect(loads).toBe(4);
    invalidateAllActors(true);
    await cachedActor("token-4", later, load);
    await cachedActor("token-4", later, load);
    expect(loads).toBe(5);
  });
});
