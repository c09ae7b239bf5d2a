import { describe, expect, it } from "vitest";
import { isPublicAddress, webhookUrlProblem } from "./addresses.ts";

describe("isPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",
    "not an address",
  ])("refuses %s", (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(["93.184.216.34", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"])(
    "accepts %s",
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe("webhookUrlProblem", () => {
  it("wants https, without credentials or a fragment", () => {
    expect(webhookUrlProblem("https://hooks.example.com/elevate", false)).toBeNull();
    expect(webhookUrlProblem("http://hooks.example.com/elevate", false)).toBe("must be an https:// URL");
    expect(webhookUrlProblem("ftp://hooks.example.com", false)).toBe("must be an https:// URL");
    expect(webhookUrlProblem("hooks.example.com", false)).toBe("must be an absolute URL");
    expect(webhookUrlProblem("https://user:pw@hooks.example.com", false)).toMatch(/user name or password/);
    expect(webhookUrlProblem("https://hooks.example.com/#x", false)).toMatch(/fragment/);
  });

  it("refuses this host and private addresses spelled in the URL unless they are allowed, then takes http too", () => {
    for (const url of [
      "https://localhost/x",
      "https://127.0.0.1/x",
      "https://[::1]/x",
      "https://10.0.0.5/x",
      "https://169.254.169.254/latest",
      "https://app.localhost/x",
    ]) {
      expect(webhookUrlProblem(url, false), url).not.toBeNull();
      expect(webhookUrlProblem(url, true), url).toBeNull();
    }
    expect(webhookUrlProblem("http://127.0.0.1:8080/x", true)).toBeNull();
  });
});
