/**
 * The address of a group the directory gives none: its name, lower-cased with every
 * run of other characters as one `-`, at `directory.invalid`. Approver groups are
 * named by address (`-ApprovalGroup`), never mailed as a whole: each approver gets
 * their own message, so a group needs a unique address, not a mailbox.
 */
export function derivedGroupAddress(name: string): string {
  const local = name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/, "");
  return `${local || "group"}@directory.invalid`;
}
