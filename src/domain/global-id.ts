// Relay global IDs ("Type:uuid", base64): one encoding for the API (the relay plugin
// uses these two functions), the domain's ID inputs, links and tests.

export function encodeGlobalId(typename: string, id: string): string {
  return Buffer.from(`${typename}:${id}`).toString("base64");
}

/** The type and ID a global ID names, or null for anything that is not one. */
export function decodeGlobalId(value: string): { typename: string; id: string } | null {
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon > 0 ? { typename: decoded.slice(0, colon), id: decoded.slice(colon + 1) } : null;
}
