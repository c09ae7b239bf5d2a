#!/usr/bin/env node
// The `elevate` command. It runs the TypeScript sources through tsx (a production
// dependency), so it works in a checkout (`npx elevate`) and after `npm install -g`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
