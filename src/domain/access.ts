import type { Actor, ServiceContext } from "./context.ts";
import { ForbiddenError } from "./errors.ts";

export function isAdmin(actor: Actor | null): boolean {
  return actor?.roles.includes("ADMIN") ?? false;
}

/** Admins and auditors read everything in their organization. */
export function isReader(actor: Actor | null): boolean {
  return isAdmin(actor) || (actor?.roles.includes("AUDITOR") ?? false);
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
