import type { Actor, ServiceContext } from "./context.ts";
import { ForbiddenError } from "./errors.ts";

// Who the caller is to the organization. The GraphQL auth scopes, the read rules
// (visibility.ts) and the services all ask these, so each rule is written once.

export function isAdmin(actor: Actor | null): boolean {
  return actor?.roles.includes("ADMIN") ?? false;
}

/** Admins and auditors read everything in their organization. */
export function isReader(actor: Actor | null): boolean {
  return isAdmin(actor) || (actor?.roles.includes("AUDITOR") ?? false);
}

export function isEnforcer(actor: Actor | null): boolean {
  return actor?.roles.includes("ENFORCER") ?? false;
}

/**
 * Admins, auditors and eligible approvers read how approval works: the control's
 * system accounts, the policies' approval details and the approver groups' members.
 * Everyone else sees what they need to file a request.
 */
export function readsApprovalConfiguration(actor: Actor | null): boolean {
  return isReader(actor) || (actor?.approver ?? false);
}

export function requireActor(ctx: ServiceContext): Actor {
  if (!ctx.actor) throw new ForbiddenError("this operation needs a signed-in user");
  return ctx.actor;
}

export function requireAdmin(ctx: ServiceContext): Actor {
  const actor = requireActor(ctx);
  if (!isAdmin(actor)) throw new ForbiddenError("only administrators may change this");
  return actor;
}
