import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import axe from "axe-core";
import type { Browser, Page } from "playwright-core";

/** Screenshots of every screen the console tests visit (gitignored). */
export const artifactsDir = fileURLToPath(new URL("../../test-artifacts/console/", import.meta.url));

interface Problems {
  /** CSP violations, uncaught errors and console errors, each as one line. */
  problems: string[];
}

declare global {
  interface Window {
    __cspViolations?: string[];
    axe: typeof axe;
  }
}

/**
 * A person at a browser: their own context (cookies, sessionStorage), one page,
 * and every CSP violation, uncaught error and console error that page produced.
 */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  options: { width?: number; height?: number } = {},
): Promise<Page & Problems> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
  });
  // Playwright adds init scripts outside the page's CSP, so the listener itself is no violation.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__cspViolations!.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
    });
  });
  // Waits end in a failure well before the test's own timeout, which then names the step.
  context.setDefaultTimeout(20_000);
  const page = Object.assign(await context.newPage(), { problems: [] as string[] });
  page.on("pageerror", (error) => page.problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") page.problems.push(`console: ${message.text()}`);
  });
  return page;
}

/** The `authorization` of every graphql-ws connection_init the page sends, in order. */
export function recordSocketInits(page: Page): string[] {
  const inits: string[] = [];
  page.on("websocket", (socket) =>
    socket.on("framesent", ({ payload }) => {
      const message = JSON.parse(String(payload)) as { type: string; payload?: { authorization?: string } };
      if (message.type === "connection_init") inits.push(message.payload?.authorization ?? "");
    }),
  );
  return inits;
}

/** Picks an option of a Mantine Select (a combobox), searching for it first. */
export async function choose(page: Page, label: string, option: string, search?: string): Promise<void> {
  const input = page.getByRole("combobox", { name: label, exact: true });
  await input.click();
  if (search) await input.fill(search);
  await page.getByRole("option", { name: option, exact: true }).click();
}

/**
 * Sends one GraphQL operation to the API process as `email`, with a token of its dev
 * issuer: the setup a console test needs around the screens it drives, and what the API
 * shows afterwards. Answers the first root field.
 */
export async function graphqlAs<T = { __typename: string; identity?: string }>(
  baseUrl: string,
  email: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const minted = await fetch(`${baseUrl}/dev/token`, { method: "POST", body: JSON.stringify({ as: email }) });
  const { access_token } = (await minted.json()) as { access_token: string };
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${access_token}` },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as { data?: Record<string, T>; errors?: unknown[] };
  const [field] = Object.values(answer.data ?? {});
  if (field === undefined) throw new Error(`no data: ${JSON.stringify(answer.errors)}`);
  return field;
}

/** Signs in through the console's "sign in as" list (the dev issuer) and waits for the app. */
export async function signInAs(page: Page, email: string, path = "/"): Promise<void> {
  await page.goto(path);
  await page.getByRole("button", { name: new RegExp(`(^|\\s)${email.replace(/[.@]/g, "\\$&")}(\\s|$)`) }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

let shots = 0;

/**
 * The checks every screen gets once it has loaded: a full-page screenshot, axe-core
 * with no serious or critical violation, and no CSP violation or error so far.
 */
export async function checkScreen(page: Page & Problems, name: string): Promise<void> {
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  await page.locator('[aria-label^="Loading"]').first().waitFor({ state: "detached" });
  // Transitions (a modal fading in) finish first, so the picture and the contrast checks see the end state.
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((animation) => animation.effect?.getComputedTiming().iterations !== Number.POSITIVE_INFINITY)
        // A transition that another replaces is canceled, which rejects `finished`: that one is over too.
        .map((animation) => animation.finished.catch(() => undefined)),
    ),
  );
  await mkdir(artifactsDir, { recursive: true });
  shots += 1;
  await page.screenshot({
    path: path.join(artifactsDir, `${String(shots).padStart(2, "0")}-${name}.png`),
    fullPage: true,
  });

  // Evaluated through the DevTools protocol: the page's CSP (no inline script) does not apply to it.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    return results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
      }));
  });
  const csp = await page.evaluate(() => window.__cspViolations ?? []);
  const found = {
    screen: name,
    axe: violations,
    problems: [...csp.map((line) => `csp: ${line}`), ...page.problems],
  };
  if (found.axe.length || found.problems.length) throw new Error(`screen "${name}": ${JSON.stringify(found, null, 2)}`);
}
