import type { AuthorizationStatus } from "../../db/client.ts";

/** The authorization (grant) state machine: ACTIVE ends or is revoked, once. */
export const authorizationTransitions: Record<AuthorizationStatus, readonly AuthorizationStatus[]> = {
  ACTIVE: ["ENDED", "REVOKED"],
  ENDED: [],
  REVOKED: [],
};
