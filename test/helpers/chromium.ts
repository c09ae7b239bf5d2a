import { type Browser, chromium } from "playwright-core";

/**
 * Debian's Chromium (CHROMIUM_PATH overrides it), headless, with the flags this machine and CI need,
 * and any a test adds (a host resolver that reaches nothing but this machine, for example).
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}
