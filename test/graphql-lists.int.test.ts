import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../src/domain/audit/audit.service.ts";
import { encodeGlobalId } from "../src/domain/global-id.ts";
import { graphql } from "./graphql/index.ts";
import { startTestApp, type TestApp } from "./helpers/app.ts";
import { testAuditKeys } from "./helpers/audit-keys.ts";
import { approve, createPolicy, createRequest, enableControl, rawId } from "./helpers/fixtures.ts";

// The list filters the console and the command line search with: each narrows what
// the caller may already see, and a malformed ID is a VALIDATION error naming the argument.

const AuditEvents = graphql(`
  query FilteredAuditEvents($filter: AuditEventFilter, $order: AuditOrder, $first: Int) {
    auditEvents(filter: $filter, order: $order, first: $first) {
      totalCount
      edges {
        node {
          sequence
          action
          actor {
            email
          }
          subjectId
        }
      }
    }
  }
`);

const Authorizations = graphql(`
  query AuthorizationsOf($userId: ID) {
    accessAuthorizations(userId: $userId) {
      totalCount
      edges {
        node {
          identity
          user {
            email
          }
        }
      }
    }
  }
`);

const Catalog = graphql(`
  query SearchCatalog($search: String, $type: PolicyType) {
    catalog(search: $search, type: $type, first: 100) {
      totalCount
      edges {
        node {
          name
        }
      }
    }
  }
`);

const MyGroups = graphql(`
  query MyApproverGroups($userId: ID!) {
    me {
      approverGroups {
        email
      }
    }
    node(id: $userId) {
      ... on User {
        approverGroups {
          email
        }
      }
    }
  }
`);

let t: TestApp;
let requestId: string;
let authorizationIdentity: string;
let requesterId: string;
beforeAll(async () => {
  t = await startTestApp();
  await enableControl(t);
  await createPolicy(t, { target: "Exchange\\New-MoveRequest", approvalType: "MANUAL" });
  requestId = await createRequest(t, "Exchange\\New-MoveRequest");
  const approved = await approve(t, requestId);
  if (approved.__typename !== "AccessRequest" || !approved.authorization) throw new Error("setup failed");
  const grant = await t.db.accessAuthorization.findFirstOrThrow({ where: { requestId: rawId(requestId) } });
  authorizationIdentity = grant.id;
  requesterId = grant.userId;
});
afterAll(() => t.close());

describe("auditEvents", () => {
  it("filters by action in any case, actor, subject and time, oldest or newest first", async () => {
    const all = (await t.as("auditor@fabrikam.com", AuditEvents, { first: 100 })).auditEvents;
    const sequences = all.edges.map((edge) => edge.node.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));

    const newest = (await t.as("auditor@fabrikam.com", AuditEvents, { order: "NEWEST_FIRST", first: 1 })).auditEvents;
    expect(newest.edges[0]!.node.sequence).toBe(Math.max(...sequences));

    const approvals = (
      await t.as("auditor@fabrikam.com", AuditEvents, { filter: { actions: ["approve-elevatedaccessrequest"] } })
    ).auditEvents;
    expect(approvals.edges.map((edge) => [edge.node.action, edge.node.actor?.email])).toEqual([
      ["Approve-ElevatedAccessRequest", "approver1@fabrikam.com"],
    ]);

    const approver = await t.db.user.findFirstOrThrow({ where: { email: "approver1@fabrikam.com" } });
    for (const actorId of [approver.id, encodeGlobalId("User", approver.id)]) {
      const byActor = (await t.as("auditor@fabrikam.com", AuditEvents, { filter: { actorId } })).auditEvents;
      expect(byActor.totalCount).toBeGreaterThan(0);
      expect(new Set(byActor.edges.map((edge) => edge.node.actor?.email))).toEqual(new Set(["approver1@fabrikam.com"]));
    }

    const bySubject = (await t.as("auditor@fabrikam.com", AuditEvents, { filter: { subjectId: requestId } }))
      .auditEvents;
    expect(bySubject.edges.map((edge) => edge.node.action)).toEqual([
      "New-ElevatedAccessRequest",
      "Approve-ElevatedAccessRequest",
    ]);

    const future = new Date(Date.now() + 3600_000).toISOString();
    const none = (await t.as("auditor@fabrikam.com", AuditEvents, { filter: { from: future } })).auditEvents;
    expect(none.totalCount).toBe(0);
  });

  it("refuses a malformed actor ID and a reversed time range, naming the field", async () => {
    const token = await t.tokenFor("auditor@fabrikam.com");
    const malformed = await t.request(token, AuditEvents, { filter: { actorId: "not-an-id" } });
    expect(malformed.errors?.[0]).toMatchObject({
      message: "filter.actorId: must be the ID of a User",
      extensions: { code: "VALIDATION", field: "filter.actorId" },
    });
    const reversed = await t.request(token, AuditEvents, {
      filter: { from: new Date().toISOString(), to: new Date(Date.now() - 1000).toISOString() },
    });
    expect(reversed.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "filter.to" });
  });
});

describe("auditEvents from a time on", () => {
  it("are every event at or after it, in chain order, though transactions' clocks wrote them out of order", async () => {
    // Contoso's chain, written by hand: each append is a transaction with its own clock,
    // and one that took the chain's lock later may have read its clock earlier.
    const contoso = await t.db.organization.findUniqueOrThrow({ where: { name: "Contoso" } });
    // After the seed's events (their chainAt is their time of writing).
    const base = Date.now() + 3600_000;
    const minutes = (n: number) => new Date(base + n * 60_000);
    const append = (at: Date, subjectId: string) =>
      t.db.$transaction((tx) =>
        appendAudit(tx, testAuditKeys, contoso.id, null, at, [
          { action: "Set-ElevatedAccessApprovalPolicy", subjectId, details: {} },
        ]),
      );
    await append(minutes(20), "first");
    await append(minutes(10), "second, its clock ten minutes behind");
    await append(minutes(30), "third");
    const written = await t.db.auditEvent.findMany({
      where: { organizationId: contoso.id, subjectId: { not: null }, at: { gte: minutes(0) } },
      orderBy: { sequence: "asc" },
    });
    expect(written.map((event) => [event.subjectId, event.at, event.chainAt])).toEqual([
      ["first", minutes(20), minutes(20)],
      ["second, its clock ten minutes behind", minutes(10), minutes(20)],
      ["third", minutes(30), minutes(30)],
    ]);

    const subjectsFrom = async (from: Date, order: "OLDEST_FIRST" | "NEWEST_FIRST", first?: number) => {
      const { auditEvents } = await t.as("admin@contoso.com", AuditEvents, {
        filter: { from: from.toISOString() },
        order,
        first,
      });
      return [auditEvents.totalCount, auditEvents.edges.map((edge) => edge.node.subjectId)];
    };
    // From before all three: the second's own time comes first, its place in the chain does not.
    expect(await subjectsFrom(minutes(5), "OLDEST_FIRST")).toEqual([
      3,
      ["first", "second, its clock ten minutes behind", "third"],
    ]);
    expect(await subjectsFrom(minutes(5), "NEWEST_FIRST")).toEqual([
      3,
      ["third", "second, its clock ten minutes behind", "first"],
    ]);
    expect(await subjectsFrom(minutes(5), "OLDEST_FIRST", 2)).toEqual([
      3,
      ["first", "second, its clock ten minutes behind"],
    ]);
    // Between the second's time and the first's: the second is before it, though after the first in the chain.
    expect(await subjectsFrom(minutes(15), "OLDEST_FIRST")).toEqual([2, ["first", "third"]]);
    expect(await subjectsFrom(minutes(25), "OLDEST_FIRST")).toEqual([1, ["third"]]);
  });
});

describe("accessAuthorizations", () => {
  it("narrows to one grantee, by GUID or global ID, within what the caller may see", async () => {
    for (const userId of [requesterId, encodeGlobalId("User", requesterId)]) {
      const mine = (await t.as("admin@fabrikam.com", Authorizations, { userId })).accessAuthorizations;
      expect(mine.edges.map((edge) => [edge.node.identity, edge.node.user.email])).toEqual([
        [authorizationIdentity, "requester@fabrikam.com"],
      ]);
    }
    const approver = await t.db.user.findFirstOrThrow({ where: { email: "approver1@fabrikam.com" } });
    expect(
      (await t.as("admin@fabrikam.com", Authorizations, { userId: approver.id })).accessAuthorizations.totalCount,
    ).toBe(0);
    // Filtering never widens: another organization's admin sees none of them.
    expect(
      (await t.as("admin@contoso.com", Authorizations, { userId: requesterId })).accessAuthorizations.totalCount,
    ).toBe(0);
  });

  it("refuses a malformed user ID with VALIDATION", async () => {
    const result = await t.request(await t.tokenFor("admin@fabrikam.com"), Authorizations, { userId: "42" });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: "VALIDATION", field: "userId" });
  });
});

describe("catalog", () => {
  it("finds entries by part of the name in any case", async () => {
    const found = (await t.as("admin@fabrikam.com", Catalog, { search: "new-moverequest" })).catalog;
    expect(found.edges.map((edge) => edge.node.name)).toEqual(["Exchange\\New-MoveRequest"]);
    const roles = (await t.as("admin@fabrikam.com", Catalog, { search: "moverequest", type: "ROLE" })).catalog;
    expect(roles.totalCount).toBe(0);
  });
});

describe("User.approverGroups", () => {
  it("shows the caller their own groups, readers anyone's, and nobody else's to a member", async () => {
    const approver = await t.db.user.findFirstOrThrow({ where: { email: "approver1@fabrikam.com" } });
    const approverId = encodeGlobalId("User", approver.id);
    const own = await t.as("approver1@fabrikam.com", MyGroups, { userId: approverId });
    expect(own.me.approverGroups?.map((group) => group.email)).toEqual(["pamapprovers@fabrikam.com"]);
    const byAuditor = await t.as("auditor@fabrikam.com", MyGroups, { userId: approverId });
    expect(byAuditor.node).toEqual({ approverGroups: [{ email: "pamapprovers@fabrikam.com" }] });
    const byRequester = await t.as("requester@fabrikam.com", MyGroups, { userId: approverId });
    expect(byRequester.me.approverGroups).toEqual([]);
    expect(byRequester.node).toEqual({ approverGroups: null });
  });
});
