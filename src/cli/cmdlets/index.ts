import type { Cmdlet } from "../cmdlet.ts";
import { addGroupMember, getGroup, newGroup, removeGroupMember } from "./approver-groups.cmdlets.ts";
import { getAuditLog, testAuditLog } from "./audit.cmdlets.ts";
import {
  getAuthorization,
  requestExtension,
  revokeAuthorization,
  stopAuthorization,
  testAccess,
} from "./authorizations.cmdlets.ts";
import { disableControl, enableControl, getControl, setControl } from "./control.cmdlets.ts";
import { getVendor, newVendor } from "./lockbox.cmdlets.ts";
import { getPolicy, newPolicy, removePolicy } from "./policies.cmdlets.ts";
import { approveRequest, cancelRequest, denyRequest, getRequest, newRequest } from "./requests.cmdlets.ts";
import { login, logout, whoami } from "./session.cmdlets.ts";

/** Every command, in the order help lists them: Office 365's four steps, then the rest. */
export const cmdlets: Cmdlet[] = [
  newGroup,
  getGroup,
  addGroupMember,
  removeGroupMember,
  enableControl,
  getControl,
  setControl,
  disableControl,
  newPolicy,
  getPolicy,
  removePolicy,
  newRequest,
  getRequest,
  approveRequest,
  denyRequest,
  cancelRequest,
  getAuthorization,
  revokeAuthorization,
  stopAuthorization,
  requestExtension,
  testAccess,
  newVendor,
  getVendor,
  getAuditLog,
  testAuditLog,
  login,
  logout,
  whoami,
];
