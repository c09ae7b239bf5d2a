import type { AuthorizationStatus } from "../../db/client.ts";

/**
 * The authorization (grant) state machine: a SCHEDULED grant becomes ACTIVE at its
 * startsAt; either ends or is revoked, once.
 */
export const authorizationTransitions: Record<AuthorizationStatus, readonly AuthorizationStatus[]> = {
  SCHEDULED: ["ACTIVE", "ENDED", "REVOKED"],
  ACTIVE: ["ENDED", "REVOKED"],
  ENDED: [],
  REVOKED: [],
};
