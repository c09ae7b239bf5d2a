import { z } from "zod";
import { requireAdmin } from "../access.ts";
import type { ServiceContext } from "../context.ts";
import { ConflictError } from "../errors.ts";
import { transition } from "../transition.ts";
import { nonEmptyText, optionalText, parseInput } from "../validation.ts";
import { addUser } from "./users.service.ts";

// Customer Lockbox vendors (requests/lockbox.ts). A vendor's support engineer signs in as
// a service identity of the organization's identity provider (a client-credentials
// token: `idtyp: app`, its `oid`/`sub` the subject registered here). Tokens are matched
// by subject only (identity.ts), so the registration is the subject, bound to a user
// of its own that the sign-in then finds; no address or directory entry can make a
// user a vendor, and a vendor cannot become anything else.

const registerInput = z.object({
  vendorName: nonEmptyText(128),
  /** The service identity's immutable object ID: the `oid` (else `sub`) of its tokens. */
  subject: nonEmptyText(256).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "must be an identity provider object ID"),
  displayName: optionalText(256),
});

/** New-CustomerLockboxVendor (admins): registers a vendor's service identity. */
export async function registerLockboxVendor(ctx: ServiceContext, rawInput: unknown) {
  requireAdmin(ctx);
  const input = parseInput(registerInput, rawInput);
  return transition(ctx, async (scope) => {
    const taken = await scope.tx.user.count({ where: { organizationId: ctx.organizationId, subject: input.subject } });
    if (taken) {
      throw new ConflictError("subject: a user of the organization already signs in with this identity");
    }
    // A service identity's tokens carry no address: the reserved name sign-in uses stands in.
    const email = `${input.subject.toLowerCase()}@apps.invalid`;
    const vendor = await addUser(
      ctx,
      scope,
      {
        email,
        displayName: input.displayName ?? `${input.vendorName} support`,
        kind: "SERVICE",
        subject: input.subject,
        vendorName: input.vendorName,
      },
      "operator",
    );
    scope.effect({ kind: "actorsChanged", organizationId: ctx.organizationId });
    return vendor;
  });
}
