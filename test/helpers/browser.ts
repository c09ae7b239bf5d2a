import { type Browser, chromium } from "playwright-core";

/**
 * Debian's Chromium (CHROMIUM_PATH for another) with the flags this machine needs: no
 * sandbox as root, no GPU, and none of the browser's own calls home.
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
