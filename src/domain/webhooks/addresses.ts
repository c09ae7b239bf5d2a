import { BlockList, isIP } from "node:net";

/**
 * Where webhooks may not go unless the operator allows it (WEBHOOKS_ALLOW_PRIVATE):
 * this host, private networks, link-local addresses (cloud metadata services among
 * them) and other addresses that are not on the public internet. A webhook URL is
 * chosen by an organization's admin; without this rule it would reach inside the
 * network Elevate runs in.
 */
const notPublic = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  notPublic.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96], // NAT64: an IPv4 address in disguise
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  notPublic.addSubnet(network, prefix, "ipv6");
}

/** True for an IP address on the public internet (IPv4-mapped IPv6 is judged as its IPv4 address). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !notPublic.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** The hostname of a URL without IPv6 brackets. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/**
 * Why a webhook URL is unacceptable, or null. HTTPS only, unless private addresses are
 * allowed (a test or a closed network), where plain HTTP is accepted too. Addresses are
 * judged here when the URL spells one; names are resolved and judged at each delivery.
 */
export function webhookUrlProblem(raw: string, allowPrivateAddresses: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && !(allowPrivateAddresses && url.protocol === "http:")) {
    return allowPrivateAddresses ? "must be an https:// or http:// URL" : "must be an https:// URL";
  }
  if (url.username || url.password) return "must not carry a user name or password";
  if (url.hash) return "must not have a #fragment";
  if (allowPrivateAddresses) return null;
  const host = bareHost(url).toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return "must not point at this host";
  if (isIP(host) && !isPublicAddress(host)) return "must not point at a private, loopback or link-local address";
  return null;
}
