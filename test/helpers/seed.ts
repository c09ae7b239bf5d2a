/** What registering each demo organization wrote to its audit chain, before any test acts. */
export const seededAuditActions = ["New-Organization", "New-User"];
