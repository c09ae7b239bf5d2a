#!/usr/bin/env node
// The `elevate` command. It runs src/cli's TypeScript through tsx (a production
// dependency) rather than a build: the same in a checkout (`npx elevate`) and after
// `npm install -g .`, which links the checkout. The server's compiled build leaves it out.
import { register } from "tsx/esm/api";

register();
// A reader that stopped early (`elevate ... | head -1`) is no failure of the command.
process.stdout.on("error", (error) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
